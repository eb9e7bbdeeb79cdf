"""The guest conversations inbox (issue 14): one conversation per guest across channels."""
