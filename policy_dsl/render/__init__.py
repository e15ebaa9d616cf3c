"""Renderers for people: plain Chinese words (zh), the clerk's per-clause report (report),
the clerk text and compact tree (clerk, tree) and the 告知书 draft (notice)."""
