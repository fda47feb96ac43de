"""Phrases: the patterns the content checks (content.py) look for, in English and Chinese.

Each names a kind of text the creator would not post: stray chat tags, talk about the prompt
or itself, an assistant's phrases, the creator in the third person, markdown, pointers to
figures the reply does not show, numbers. They were written from replies read on the
labelled sets (docs/reply-quality.md, docs/multilingual.md). It leaves deciding what a match
means to content.py.
"""

from __future__ import annotations

import re

from shawgpt.safety.text import HAN

TAG = re.compile(r"<\|?/?\s*[a-z_]{2,20}\s*\|?>|^\s*(?:user|assistant|system|comment|"
                  r"reply|response|answer|viewer)\s*:", re.I | re.M)
ROLE = re.compile(
    r"\b(?:(?:the|this|my|your|a) (?:system )?(?:prompt|instructions?)|system message|"
    r"your (?:request|query|prompt|input|message)|my (?:previous|last|earlier) "
    r"(?:response|answer|reply|message)|previous (?:response|conversation|messages?)|"
    r"chat history|this conversation|our conversation|as an ai|an ai (?:language )?model|"
    r"(?:a|an) (?:large )?language model|i(?:'m| am) (?:an? )?(?:ai|bot|chatbot|assistant|"
    r"virtual assistant|programmed|designed|trained|here to (?:help|assist|provide))|"
    r"i(?:'m| am) (?:just )?shawgpt|(?:the|these|provided|given) (?:context|excerpts?|"
    r"chunks?)|(?:article )?excerpts? (?:provided|above|below)|delimited|"
    r"(?:accurate|informative|helpful) (?:and \w+ )?(?:responses|answers|information)|"
    r"here(?:'s| is) (?:a |an |the )?(?:concise|brief|revised|shorter|rewritten|improved|"
    r"summary|polished)|make it (?:more )?concise|"
    r"i(?:'m| am) (?:thrilled|excited|pleased|happy) to (?:announce|share that|introduce)|"
    r"(?:my|a) new (?:channel|series|podcast|course|book|project)|"
    r"(?:subscribe|follow me|stay tuned)\b)",
    re.I,
)
# An assistant's phrases, in any reply: the creator never writes them.
ASSISTANT = re.compile(
    r"\b(?:how (?:can|may|could) I (?:help|assist) you|"
    r"(?:thank you|thanks) for (?:your|the) (?:thoughtful|insightful|interesting|"
    r"detailed) (?:question|comment)|here to help|(?:I'?d|I would|I'?ll|I will) be (?:happy|"
    r"glad) to (?:help|assist|provide|answer|explain)|happy to (?:help|assist)|feel free to|"
    r"don'?t hesitate|let me know if|if you have any (?:more |other |further )?questions|"
    r"I hope (?:this|my) (?:answer|response|explanation|information)|"
    r"(?:the|your) (?:viewer|user)(?:'s)?\b|in the (?:provided |given )?context|based on the "
    r"(?:provided |given )?(?:information|text|article|excerpts?|context)|according to the "
    r"(?:provided |given )?(?:text|excerpts?|context|information))|"
    # the creator in the third person: the reply is his own words
    r"\bthe (?:article|excerpt|author)s? (?:discusses|mentions|suggests|explains|describes|"
    r"states|provides|notes|says|covers|compares|lists|shows|uses|includes|focuses)\b|"
    r"\bshaw(?:'s| (?:suggests|recommends|says|explains|mentions|notes|writes|uses|thinks|"
    r"believes|covers|discusses)\b)|according to shaw|"
    # the same in Chinese: an assistant's offers, "based on the given context", being an AI
    r"作为(?:一个|一名)?(?:AI|人工智能|语言模型|助手|机器人)|我是(?:一个|一名)?(?:AI|人工智能|语言模型|"
    r"助手|机器人|ShawGPT)|有什么(?:可以|能|需要)(?:帮|为)|(?:很|非常)?(?:高兴|乐意)(?:为您|为你|帮助|"
    r"帮忙)|如果(?:您|你)?(?:还)?有(?:任何|其他|更多)?(?:问题|疑问)|随时(?:提问|问我|联系)|"
    r"根据(?:提供的|所给的|上述|以上|给出的)?(?:上下文|资料|摘录|信息|内容)|提示词|系统消息", re.I)
# Markdown an answer must not carry (a YouTube comment shows it as raw marks): list items,
# headings, bold or italics with stars, code fences and inline code.
MARKDOWN = re.compile(r"^\s*(?:[-*•+]|\d{1,2}[.)])\s+\S|^\s*#{1,6}\s|\*\*[^*\n]+\*\*|"
                       r"__[^_\n]+__|```|`[^`\n]+`", re.M)
# A comment that asks for code may get it.
WANTS_CODE = re.compile(r"\b(?:code|script|snippet|syntax|function|command|python|sql)\b", re.I)
# A reply pointing at something it does not show ("the following equation", "see below"),
# most often copied from an excerpt that had it: in a comment thread it reads as broken.
SHOWN = (r"(?:equation|expression|formula|figure|fig\.|image|plot|graph|chart|code|snippet|"
          r"steps?|example|table|diagram|visual|animation|output)")
POINTS = re.compile(
    rf"\b(?:the|these) following {SHOWN}s?\b|\b(?:shown|see|seen|as|given) (?:below|above)\b|"
    r"\bthis (?:figure|equation|expression|formula|image|plot|graph|chart|table|diagram)\b|"
    rf"\b(?:the|an?) {SHOWN}s? (?:below|above)\b|\b(?:below|above) (?:is|are)\b|\bas follows\b",
    re.I)

# The creator in the third person anywhere ("… Shaw asks …", "the author shows"): the reply
# is his own words, so any of these names a writer who is not the one replying. Unlike the
# role phrases, a name the chunks' file names carry ("by Shaw Talebi") does not excuse it.
THIRD = re.compile(r"\b(?:shaw|shawhin|talebi|the (?:author|creator|writer|blogger|"
                    r"youtuber)(?:'s)?)\b|作者|博主|UP主|up主|肖恩", re.I)
# a number starts at a word boundary, or straight after a Chinese character ("共3个")
NUMBER = re.compile(rf"(?:\b|(?<=[{HAN}]))\d+(?:[.,]\d+)?\s*(?:%|[a-zA-Zµ]{{1,4}}\b)?")
# Words the signature, the creator's name and the chat's own roles bring in anywhere.
OWN = {"shawgpt", "shaw", "shawhin", "talebi", "youtube", "i", "ok", "okay", "hey", "hi"}
