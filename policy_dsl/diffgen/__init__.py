"""`policy diff --generate`: boundary cases around every comparison of both rule sets, pairwise
combinations, and coverage per changed threshold.

- sites.py     — the comparisons of a rule set: which facts they read, which constant they compare with
- steps.py     — the smallest step of each type and the search domain of a fact (vocabulary min/max)
- solve.py     — fact values that put a (derived) quantity just below, at and just above a constant
- pairwise.py  — a greedy pairwise covering array over the facts' levels, capped
- coverage.py  — per comparison and per changed threshold: which cases exercised which side
- params.py    — static: bounds widened/narrowed, delegation and history changes of parameters
"""
