"""A modelhub config as another framework's model.

One module per framework, each imported only when you import it (and needing that
framework, installed with the matching extra):

- `modelhub.adapters.smolagents.Model("name")`: a `smolagents.Model`
  (`pip install "modelhub[smolagents]"`);
- `modelhub.adapters.langchain.ChatModelhub(model="name")`: a LangChain
  `BaseChatModel` (`modelhub[langchain]`);
- `modelhub.adapters.pydantic_ai.Model("name")`: a pydantic-ai `Model`
  (`modelhub[pydantic_ai]`);
- `modelhub.adapters.agentscope.ChatModel("name")`: an AgentScope `ChatModelBase`,
  1.x or 2.x, whichever is installed (`modelhub[agentscope]`).

Each takes a config name or a chat wrapper (`modelhub.get(...)`, or a scripted model
from `modelhub.testing`).
"""
