"""Bytes to text, or a one-line reason why not. Never guesses silently.

Order of trust:

1. A byte-order mark (UTF-8, UTF-16, UTF-32) decides.
2. NUL bytes or many control bytes: a binary file, not text.
3. Strict UTF-8.
4. Not UTF-8: if the file is mostly valid UTF-8 with a few bad bytes, it is damaged UTF-8 and is
   refused with the byte offsets. Otherwise the legacy code pages in `CANDIDATES` are tried. Each one
   that decodes without control characters is measured with charset-normalizer (mess and language
   coherence) and with `plausibility` below; the most coherent reading wins, ties going to the code
   page most used in practice. Detection is *confident* only with enough evidence (`MIN_EVIDENCE`
   non-ASCII bytes), little mess, a language that fits and plausible letters; otherwise the file is
   refused with the offsets of its first invalid UTF-8 bytes.

`final=False` decodes a prefix of a longer file: a character cut in half at the end is dropped.
Line breaks come back as "\\n" only. The text is otherwise as written: no Unicode normalisation.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from briefer.errors import InputError

# Legacy code pages worth trying, most used first (the order breaks ties between equal readings).
# Rare ISO-8859 parts (3, 10, 14, 16) are left out: they read common Latin text almost as well as the
# code pages it was written in, and would win ties with letters nobody typed (ș for ş).
CANDIDATES = (
    "cp1252", "cp1251", "cp1256", "cp1250", "iso8859-2", "cp1253", "cp1254", "cp1255", "cp1257",
    "iso8859-15", "iso8859-9", "iso8859-7", "iso8859-5", "koi8-r", "koi8-u", "iso8859-6", "iso8859-8",
    "iso8859-13", "iso8859-4", "gb18030", "big5", "shift_jis", "euc-jp", "euc-kr",
)
MIN_EVIDENCE = 8  # non-ASCII bytes needed before an encoding is guessed at all
MAX_MESS = 0.2  # charset-normalizer's mess ratio above which a reading is noise
LOW_MESS = 0.05  # below this a reading needs no language fit (charset-normalizer finds none for Japanese)
MIN_COHERENCE = 0.1  # otherwise, the language coherence a reading needs
MIN_PLAUSIBILITY = 0.9
DETECT_SAMPLE = 64 * 1024  # bytes measured for detection (the whole prefix is then decoded strictly)
_TIE = 0.02

_BOMS = (  # longest first: the UTF-32 LE mark starts like the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)
_MAGIC = (
    (b"%PDF", "a PDF document"), (b"PK\x03\x04", "a ZIP archive or Office document"),
    (b"\x89PNG", "a PNG image"), (b"GIF8", "a GIF image"), (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "a gzip archive"), (b"\xd0\xcf\x11\xe0", "an old Office document"), (b"\x7fELF", "a program"),
)
# C0 controls other than tab, LF, VT, FF, CR and ESC.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_HIGH_BYTES = bytes(range(0x80, 0x100))

# Letters beyond ASCII that each Latin-script language uses. A reading of Latin-script text is plausible
# when one language accounts for its accented letters: "réforme à" is French; "réforme ŕ" is nobody's.
_LATIN_LETTERS = {
    "French": "àâæçéèêëîïôœùûüÿ", "German": "äöüß", "Spanish": "áéíñóúü¡¿", "Portuguese": "áâãàçéêíóôõú",
    "Italian": "àèéìíîòóùú", "Catalan": "àçèéíïòóúü", "Dutch": "áéëïóöü", "Danish/Norwegian": "æøåéó",
    "Swedish": "åäöé", "Finnish": "äöåšž", "Icelandic/Faroese": "áðéíóúýþæöø", "Polish": "ąćęłńóśźż",
    "Czech": "áčďéěíňóřšťúůýž", "Slovak": "áäčďéíĺľňóôŕšťúýž", "Slovene/Croatian/Bosnian": "čćđšž",
    "Hungarian": "áéíóöőúüű", "Romanian": "ăâîșțşţ", "Turkish/Azeri": "çğıöşüâîûə", "Albanian": "çë",
    "Estonian": "äõöüšž", "Latvian": "āčēģīķļņšūž", "Lithuanian": "ąčęėįšųūž", "Maltese": "àċèġħìòùż",
    "Irish/Welsh": "áéíóúâêîôûŵŷ",
}
_WORD = re.compile(r"[^\W\d_]+")  # a run of letters
_EAST_ASIAN = {"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO"}


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # Python codec name: "utf-8", "utf-8-sig", "utf-16-le", "cp1256", ...
    detected: bool = False  # True when the encoding was guessed from the bytes (no BOM, not UTF-8)
    alternatives: tuple[str, ...] = field(default=())  # equally plausible encodings that read differently


def decode_bytes(data: bytes, *, final: bool = True) -> Decoded:
    """Decode `data` (a whole file, or its first bytes when `final` is False); InputError says why not."""
    for bom, name, codec in _BOMS:
        if data.startswith(bom):
            return Decoded(_newlines(_with_bom(data, codec, name, final)), name)
    _refuse_binary(data)
    try:
        return Decoded(_newlines(codecs.getincrementaldecoder("utf-8")().decode(data, final)), "utf-8")
    except UnicodeDecodeError:
        pass
    # A prefix may end in the middle of a character: that is not an invalid byte.
    problem = invalid_utf8(data if final else _drop_partial_utf8_tail(data)) or "not valid UTF-8"
    sample = data[:DETECT_SAMPLE]
    evidence = len(sample) - len(sample.translate(None, _HIGH_BYTES))
    multibyte = covered = 0
    for m in _UTF8_MULTIBYTE.finditer(sample):
        multibyte, covered = multibyte + 1, covered + m.end() - m.start()
    if multibyte > evidence - covered:
        raise InputError(f"{problem}: damaged UTF-8 ({multibyte} valid multi-byte characters, "
                         f"{evidence - covered} invalid bytes); repair the file or save it again as UTF-8")
    if evidence < MIN_EVIDENCE:
        raise InputError(f"{problem}, and {evidence} non-ASCII byte{'s' if evidence != 1 else ''} "
                         f"{'are' if evidence != 1 else 'is'} too few to tell its encoding; save it as UTF-8")
    found = _detect(data, final)
    if found is None:
        raise InputError(f"{problem}, and no other encoding reads it with confidence; save it as UTF-8")
    return found


def invalid_utf8(data: bytes, show: int = 4) -> str | None:
    """'not valid UTF-8 (byte 3: b'\\xe9'; also at 17, 40; 9 invalid in all)', or None if `data` is UTF-8."""
    offsets: list[int] = []
    total = 0
    pos = 0
    view = memoryview(data)
    while pos < len(data):
        try:
            codecs.utf_8_decode(view[pos:], "strict", True)
            break
        except UnicodeDecodeError as exc:
            start, pos = pos + exc.start, pos + exc.end
            total += 1
            if len(offsets) < show:
                offsets.append(start)
            elif total > 10_000:  # enough to say "many"
                break
    if not offsets:
        return None
    first = offsets[0]
    text = f"not valid UTF-8 (byte {first}: {data[first:first + 1]!r}"
    if len(offsets) > 1:
        more = "more than 10,000" if total > 10_000 else f"{total:,}"
        text += f"; also at {', '.join(str(o) for o in offsets[1:])}; {more} invalid in all"
    return text + ")"


def plausibility(text: str) -> float:
    """How plausible a reading's letters are, from 0 to 1.

    The share of non-ASCII letters that one writing system (or, for Latin script, one language)
    accounts for, lowered by the share of words that mix writing systems ("Јj", "mercoledЌ"): a
    mis-decoded file scatters letters of another script inside words.
    """
    letters = [ch for ch in text if ord(ch) > 0x7F and ch.isalpha()]
    if not letters:
        return 1.0
    scripts = Counter(_script(ch) for ch in letters)
    script, count = scripts.most_common(1)[0]
    if script == "LATIN":
        folded = Counter(ch.lower() for ch in letters)
        count = max(sum(n for ch, n in folded.items() if ch in alphabet) for alphabet in _LATIN_LETTERS.values())
    words = [w for w in _WORD.findall(text) if not w.isascii()]
    mixed = sum(1 for w in words if len({_script(ch) for ch in w}) > 1)
    return count / len(letters) * (1 - mixed / max(len(words), 1))


def _script(ch: str) -> str:
    word = unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]
    return "CJK" if word in _EAST_ASIAN else word


@dataclass(frozen=True)
class _Reading:
    encoding: str
    text: str
    mess: float
    coherence: float
    plausibility: float


def _detect(data: bytes, final: bool) -> Decoded | None:
    from charset_normalizer import from_bytes  # here, not at start-up: only a file that is not UTF-8 needs it

    sample = data[:DETECT_SAMPLE]
    readings: list[_Reading] = []
    for encoding in CANDIDATES:
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(sample, final and len(sample) == len(data))
        except UnicodeDecodeError:
            continue
        if _CONTROL_CHARS.search(text):
            continue
        match = from_bytes(sample, cp_isolation=[encoding], preemptive_behaviour=False, threshold=MAX_MESS).best()
        if match is None:
            continue
        readings.append(_Reading(encoding, text, match.chaos, match.coherence, plausibility(text)))
    if not readings:
        return None
    # Least mess, then the most plausible letters, then the best language fit; ties go to the commonest code page.
    least = min(r.mess for r in readings)
    tied = [r for r in readings if r.mess <= least + _TIE]
    top = max(r.plausibility for r in tied)
    tied = [r for r in tied if r.plausibility >= top - _TIE]
    best_fit = max(r.coherence for r in tied)
    tied = [r for r in tied if r.coherence >= best_fit - _TIE]
    winner = tied[0]  # readings are in CANDIDATES order
    if winner.plausibility < MIN_PLAUSIBILITY or (winner.mess > LOW_MESS and winner.coherence < MIN_COHERENCE):
        return None
    try:
        text = codecs.getincrementaldecoder(winner.encoding)().decode(data, final)
    except UnicodeDecodeError:
        return None
    if _CONTROL_CHARS.search(text):
        return None
    others = tuple(r.encoding for r in tied[1:] if r.text != winner.text)
    return Decoded(_newlines(text), winner.encoding, detected=True, alternatives=others)


def _with_bom(data: bytes, codec: str, name: str, final: bool) -> str:
    try:
        return codecs.getincrementaldecoder(codec)().decode(data, final)
    except UnicodeDecodeError as exc:
        if codec == "utf-8-sig":  # offsets counted from the start of the file, mark included
            problem = invalid_utf8(data if final else _drop_partial_utf8_tail(data)) or "not valid UTF-8"
        else:
            problem = f"not valid {name.upper()} (byte {exc.start}: {data[exc.start:exc.start + 2]!r})"
        raise InputError(f"{problem} despite its byte-order mark") from None


def _refuse_binary(data: bytes) -> None:
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise InputError(f"binary file (looks like {what})")
    nul = data.find(b"\x00")
    if nul >= 0:
        hint = ""
        odd, even = data[1:256:2], data[0:256:2]
        if len(odd) >= 4 and max(odd.count(0), even.count(0)) >= 0.6 * len(odd):
            hint = "; if it is UTF-16 text, save it with a byte-order mark or as UTF-8"
        raise InputError(f"binary file (NUL byte at offset {nul}){hint}")
    sample = data[:DETECT_SAMPLE]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls > max(8, len(sample) // 100):
        raise InputError(f"binary file ({controls} control bytes in the first {len(sample):,} bytes)")


def _drop_partial_utf8_tail(data: bytes) -> bytes:
    """Without an incomplete UTF-8 sequence at the very end (a prefix may cut a character in half)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # not a continuation byte: the start of the last character
            needed = 2 if byte >> 5 == 0b110 else 3 if byte >> 4 == 0b1110 else 4 if byte >> 3 == 0b11110 else 1
            return data[:-back] if needed > back else data
    return data


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
