"""Built-in provider families, one package each; each is the only place that knows
its SDK or wire protocol."""
