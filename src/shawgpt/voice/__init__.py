"""Voice: the creator's way of replying, learned from their past replies.

pairs.py reads the pairs file (past comments and the creator's replies); examples.py picks
the replies most like a comment for its prompt; finetune.py turns the file into a LoRA
adapter on the prompts `reply` sends (the trainer itself is models/finetune.py). pairs.py
and examples.py sit below reply (reply imports them) and import only tables (the file
readers) and below; finetune.py may import reply. It never imports batch, review, youtube or
the command line.
"""
