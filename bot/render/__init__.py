"""Reply to a platform's form; each renderer owns its platform's limits and escaping."""
