"""The command line, ``manybody COMMAND ...``: one module per command (configure(parser),
run(args) -> int), mapped to its name in main.py. The only place that prints."""
