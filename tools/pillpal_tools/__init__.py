"""PillPal's operator tools."""
