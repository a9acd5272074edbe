"""The embedded default: a tiny world, model and tokenizer that run the whole pipeline offline on CPU."""
