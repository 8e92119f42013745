"""A plugin module that fails to import, as a plugin with a missing dependency would."""

import modelhub_missing_dependency_for_tests  # noqa: F401

BrokenChatWrapper = None
