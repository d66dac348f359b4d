"""Jinja2 templates of the Markdown and HTML outputs (shipped in the wheel as hardener.templates)."""
