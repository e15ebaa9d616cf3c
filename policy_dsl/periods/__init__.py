"""Editions in force by period (how sets are built on each other — extends, supersedes — is
policy_dsl/editions.py; this package judges each case by the edition of its own period).

A rule set may state the period it governs (`period:` in policy-set.yaml); a clause may say
which date places a case in time (`period_by:`) and when it is in force (`valid:`). Reading
those keys is `reading`; judging a case by the edition of its own period is `chain`
(EditionEngine, the same API as RuleEngine); words for people are `words`.

Kept free of imports at package level: the loader imports `reading`, and `chain` imports
the engine, which imports the loader.
"""
