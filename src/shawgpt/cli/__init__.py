"""The command line: parse the flags, call one core function, print, and end the process.

commands.py holds the app and its main commands, finetune_review.py and youtube.py the
rest; exits.py is the one translation of errors into `Error: …` and exit codes; info.py and
finetune_view.py are the screens of `info` and `finetune`. Everything may be imported from
here, and nothing imports the command line: never imported by any stage below it.
"""
