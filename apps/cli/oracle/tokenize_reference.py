"""The reference token ids for apps/cli's tokenizer tests (test/text/reference-tokens.test.ts).

For each prompt below: Wan's cleaning (`whitespace_clean(basic_clean(text))` of wan/modules/tokenizers.py: ftfy.fix_text,
html.unescape twice, strip, `regex` \\s+ -> ' ', strip), and the same cleaning with ftfy's fix_encoding off (the part the
CLI does not reproduce); then Hugging Face tokenizers (Rust, what Wan's AutoTokenizer runs) over the synthetic
tokenizer.json (test/fixtures/tokenizer/synthetic-tokenizer.json, written by the CLI's test suite) and two variants of
it: `byte-fallback` (model.byte_fallback true) and `sequence` (normalizer Sequence[Precompiled, Strip right,
Replace " {2,}" -> "▁"], what transformers' current T5 converter writes). Ids untruncated, and truncated + padded to 16
(the tiny encoder's text length) and 512 (umT5-XXL's), as Wan calls the tokenizer (padding='max_length',
truncation=True, add_special_tokens=True). With transformers installed, its PreTrainedTokenizerFast must give the same.

Run from the repository root (needs: tokenizers, ftfy, regex; transformers optional):
    python3 apps/cli/oracle/tokenize_reference.py
writes test/fixtures/tokenizer/reference-token-ids.json next to the tokenizer.
"""
import html
import importlib
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE.parent / "test" / "fixtures" / "tokenizer"
TOKENIZER = FIXTURES / "synthetic-tokenizer.json"
OUT = FIXTURES / "reference-token-ids.json"

missing = []
modules = {}
for name, pip in [("tokenizers", "tokenizers"), ("ftfy", "ftfy"), ("regex", "regex")]:
    try:
        modules[name] = importlib.import_module(name)
    except ImportError:
        missing.append(pip)
if missing:
    sys.exit(
        f"tokenize_reference.py: missing Python packages: {', '.join(missing)}. "
        f"Install them (pip install {' '.join(missing)}) and run again; nothing was written."
    )
if not TOKENIZER.exists():
    sys.exit(f"tokenize_reference.py: {TOKENIZER} is missing: run `npx vitest run test/text` in apps/cli first (it writes it).")
tokenizers, ftfy, regex = modules["tokenizers"], modules["ftfy"], modules["regex"]
try:
    transformers = importlib.import_module("transformers")
except ImportError:
    transformers = None

WAN_NEGATIVE = (
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，JPEG压缩残留，"
    "丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，静止不动的画面，"
    "杂乱的背景，三条腿，背景人很多，倒着走"
)

PROMPTS = [
    "The quick brown fox jumps over the lazy dog",
    "a red fox",
    "the edge of the city of the night",
    "A café in the rain, naïve über-style, São Paulo, Ærø",
    "Cafe\u0301 with a combining accent, and e\u0308 a\u0301",
    "ﬁ\u0301ne ligature then accent",
    "色调艳丽，过曝，静态",
    WAN_NEGATIVE,
    "日本語のテキスト 한국어 텍스트",
    "emoji 😀 and 👍🏽 and 👩‍💻 and 🇫🇷 flags",
    "Tom &amp; Jerry &lt;3 &eacute;t&eacute; &copy; 2024 &#8217;quoted&#x2019; &amp;amp; &EACUTE;",
    "&ampxyz &notit; &#128512; &#0; &#x110000; &#150;",
    "<b>bold</b> &amp; &lt;tag&gt;",
    "first line &amp; more\nsecond <line> &amp; last",
    "   lots   of\t\twhitespace \n\n and\u00a0no-break\u3000ideographic\u2003em   ",
    "“Curly” ‘quotes’ and ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ，ｐｕｎｃｔｕａｔｉｏｎ！ and ｶﾀｶﾅ",
    "ligatures ﬁne ﬂow ﬃ Ǆ ĳ and ½ x² ① ㎏ ™ ℃ Ⅻ 𝐀𝐁𝐂",
    "controls \x01\x02 bell\x07 del\x7f c1 \x85 \x9f esc \x1b[31mred\x1b[0m zero\u200bwidth bom\ufeff",
    "tilde ～ and ~ and ▁ lower one eighth block",
    "<extra_id_0> sentinel and </s> literal and <0x41>",
    "mojibake cafÃ© and donâ€™t",
    "Numbers 1234567890 and 19 20 2024, slow motion, night city light",
    "a",
    " ",
    "",
    "UPPER lower MiXeD 123 !?.,;:()\"'-&/",
    "a red fox " * 120,
]


def wan_clean(text, fix_encoding=True):
    text = ftfy.fix_text(text, fix_encoding=fix_encoding)
    text = html.unescape(html.unescape(text)).strip()
    return regex.sub(r"\s+", " ", text).strip()


def variants(base):
    out = {"base": base}
    bf = json.loads(json.dumps(base))
    bf["model"]["byte_fallback"] = True
    out["byte-fallback"] = bf
    seq = json.loads(json.dumps(base))
    seq["normalizer"] = {
        "type": "Sequence",
        "normalizers": [
            base["normalizer"],
            {"type": "Strip", "strip_left": False, "strip_right": True},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": "\u2581"},
        ],
    }
    out["sequence"] = seq
    return out


def encode(tok_json, text, max_length):
    tok = tokenizers.Tokenizer.from_str(json.dumps(tok_json))
    if max_length is not None:
        tok.enable_truncation(max_length=max_length)
        tok.enable_padding(length=max_length, pad_id=0, pad_token="<pad>")
    enc = tok.encode(text, add_special_tokens=True)
    if max_length is not None:
        assert len(enc.ids) == max_length, (text, len(enc.ids))
        real = sum(enc.attention_mask)
        assert enc.attention_mask == [1] * real + [0] * (max_length - real)
        assert enc.ids[real:] == [0] * (max_length - real)
        if transformers is not None:
            fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizers.Tokenizer.from_str(json.dumps(tok_json)), pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
            t = fast([text], padding="max_length", truncation=True, max_length=max_length, add_special_tokens=True)
            assert t["input_ids"][0] == enc.ids and t["attention_mask"][0] == enc.attention_mask, ("transformers disagrees", text)
        return enc.ids[:real]
    return enc.ids


base = json.loads(TOKENIZER.read_text(encoding="utf-8"))
cases = []
for prompt in PROMPTS:
    cleaned = wan_clean(prompt)
    case = {
        "prompt": prompt,
        "cleaned": cleaned,
        "cleaned_without_fix_encoding": wan_clean(prompt, fix_encoding=False),
        "variants": {},
    }
    for name, tok_json in variants(base).items():
        case["variants"][name] = {
            "ids": encode(tok_json, cleaned, None),
            "pieces": tokenizers.Tokenizer.from_str(json.dumps(tok_json)).encode(cleaned).tokens,
            "ids_16": encode(tok_json, cleaned, 16),
            "ids_512": encode(tok_json, cleaned, 512),
        }
    cases.append(case)

result = {
    "about": "written by apps/cli/oracle/tokenize_reference.py: Wan's prompt cleaning and Hugging Face tokenizers over synthetic-tokenizer.json",
    "versions": {
        "python": sys.version.split()[0],
        "tokenizers": tokenizers.__version__,
        "ftfy": ftfy.__version__,
        "regex": regex.__version__,
        "transformers": None if transformers is None else transformers.__version__,
    },
    "tokenizer_sha256": __import__("hashlib").sha256(TOKENIZER.read_bytes()).hexdigest(),
    "cases": cases,
}
# One line per prompt, so a diff of the fixture shows which prompts changed.
head = json.dumps({k: v for k, v in result.items() if k != "cases"}, ensure_ascii=False, indent=1)[:-2]
body = ",\n".join("  " + json.dumps(c, ensure_ascii=False, separators=(",", ":")) for c in cases)
OUT.write_text(f'{head},\n "cases": [\n{body}\n ]\n}}\n', encoding="utf-8")
print(f"{OUT}: {len(cases)} prompts x {len(variants(base))} tokenizer variants (tokenizers {tokenizers.__version__}, ftfy {ftfy.__version__}, transformers {result['versions']['transformers']})")
