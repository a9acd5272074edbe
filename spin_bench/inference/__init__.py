"""Running models, shared by training, the bench and MT-Bench: loading checkpoints and tokenizers,
rendering prompts, generating (transformers or vLLM), scoring responses, and naming evaluation targets.

torch, transformers and vLLM are imported inside the functions that need them.
"""
