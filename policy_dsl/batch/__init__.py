"""`policy batch`: the rules over every row of a register (免申即享 for a whole 统筹地区).

readers (CSV/JSONL/Parquet → typed rows) → engines (evaluate_many) → render →
writers (JSONL/CSV/Parquet, atomic) + summary; the command wires them
(command.register). docs/batch.md is the user guide.
"""
