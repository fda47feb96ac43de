"""Voice: the creator's way of replying, learned from their past replies.

finetune.py turns the pairs file (past comments and the creator's replies, read by
tables/pairs.py) into a LoRA adapter on the prompts `reply` sends (the trainer itself is
models/finetune.py); the past replies shown as examples in a prompt are reply's
(reply/examples.py), so reply never climbs up here. It may import reply; never batch,
review, youtube or the command line.
"""
