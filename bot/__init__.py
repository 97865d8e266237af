"""Citizen assistant for administrative procedures (thủ tục hành chính)."""
