"""One module per provider family, each with `run(quick: bool) -> None`: one call and
one 200-chunk stream through the family's wrapper against the same call made with its
bare SDK, on the same loopback server (`benchlib.serve`), reported with
`benchlib.report` as a ratio (target: the wrapper adds at most 10%, <= 1.1x)."""
