"""How a call is made and accounted for, the same for every wrapper (the kinds' base
classes hand their calls to `engine`): retries under the config's policy, a whole-call
timeout per attempt, fallbacks, rate limits, budgets, per-config usage and cost, hooks,
OpenTelemetry spans and the invocation log. Each part lives in its own module; none is
imported by `import modelhub` or `init()`, and sqlite3 and opentelemetry are imported
only when a config logs or a tracer is installed."""
