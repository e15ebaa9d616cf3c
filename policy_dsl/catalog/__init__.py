"""`policy catalog`: the 政策清单 / 办事指南 generated from a rule set (model.py → render_*.py)."""
