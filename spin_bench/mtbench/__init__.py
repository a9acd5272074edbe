"""MT-Bench for spin-bench: two-turn answers, a judge over any OpenAI-compatible endpoint, stored scores."""
