"""Voice: the creator's way of replying, learned from their past replies.

pairs.py reads the pairs file (past comments and the creator's replies); finetune.py turns it
into a LoRA adapter on the prompts `reply` sends (the trainer itself is models/finetune.py).
May import reply, batch (its file readers) and everything below; never review, youtube or
the command line.
"""
