"""Authoring tools: show, facts templates, completion, help text."""
