"""Encodings: UTF-8 (with or without BOM), UTF-16 with BOM, legacy code pages told with confidence,
and invalid bytes reported with their offsets instead of garbled text."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefer.errors import InputError
from briefer.ingest.decode import decode_bytes, invalid_utf8, plausibility
from briefer.ingest.folder import Article, read_folder
from conftest import FIXTURES

SEED = FIXTURES / "articles" / "001_60e5ac162c7950a1.txt"

RUSSIAN = (
    "Путин провёл совещание с членами правительства\n"
    "Президент России Владимир Путин провёл в Кремле совещание с членами правительства.\n"
    "По словам пресс-секретаря Дмитрия Пескова, обсуждались вопросы экономики и бюджета на следующий год.\n"
    "Министр финансов сообщил, что дефицит бюджета сократился, а доходы от экспорта нефти выросли.\n"
)
FRENCH = (
    "Réforme des retraites : la grève continue\n"
    "Le président français a annoncé mercredi une réforme des retraites très contestée.\n"
    "Selon le ministère de l'Économie, la mesure permettra d'économiser près de dix milliards d'euros d'ici à 2030.\n"
    "Les syndicats ont appelé à une grève générale à la fin du mois, déçus par l'échec des négociations.\n"
)
POLISH = (
    "Prezydent spotkał się z premierem\n"
    "Prezydent Polski spotkał się w środę z premierem, aby omówić sytuację gospodarczą kraju.\n"
    "Według źródeł rządowych rozmowa dotyczyła także zmian w ustawie o sądach i zwiększenia wydatków na obronność.\n"
    "Opozycja skrytykowała pośpiech, z jakim przygotowano projekt, oraz brak konsultacji społecznych.\n"
)
CZECH = (
    "Vláda schválila rozpočet\n"
    "Vláda České republiky ve středu schválila návrh zákona o státním rozpočtu na příští rok.\n"
    "Podle ministra financí se schodek rozpočtu sníží, ačkoli opozice tvrdí, že čísla jsou příliš optimistická.\n"
)
GREEK = (
    "Νέα μέτρα στήριξης\n"
    "Ο πρωθυπουργός της Ελλάδας ανακοίνωσε την Τετάρτη νέα μέτρα στήριξης για τα νοικοκυριά.\n"
    "Σύμφωνα με το υπουργείο Οικονομικών, το κόστος των μέτρων θα ξεπεράσει το ένα δισεκατομμύριο ευρώ.\n"
)
TURKISH = (
    "Merkez Bankası faizi değiştirmedi\n"
    "Türkiye Cumhurbaşkanı çarşamba günü yaptığı açıklamada ekonomik büyümenin süreceğini söyledi.\n"
    "Merkez Bankası faiz oranlarını değiştirmedi ve enflasyonun düşmesini beklediğini açıkladı.\n"
)


def _read_one(tmp_path: Path, name: str, data: bytes) -> tuple[Article | None, dict[str, str], dict[str, str]]:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)
    result = read_folder(folder)
    article = result.articles[0] if result.articles else None
    return article, dict(result.skipped), dict(result.notes)


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.split("\n") if ln.strip()]


def test_windows_1256_arabic_reads_exactly_like_the_utf8_original(tmp_path: Path) -> None:
    original = read_folder(FIXTURES / "articles").articles[1]
    assert original.source_path == SEED.name
    text = SEED.read_text(encoding="utf-8")
    article, skipped, notes = _read_one(tmp_path, SEED.name, text.encode("cp1256"))
    assert not skipped
    assert article is not None
    assert article.encoding == "cp1256"
    assert (article.title, article.paragraphs, article.raw_text) == (original.title, original.paragraphs, text)
    assert notes[SEED.name] == "not UTF-8: decoded as cp1256 (detected)"


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        (RUSSIAN, "cp1251"),
        (RUSSIAN, "koi8-r"),
        (RUSSIAN, "iso8859-5"),
        (FRENCH, "latin-1"),  # ISO-8859-1
        (FRENCH, "iso8859-15"),
        (FRENCH, "cp1252"),
        (POLISH, "iso8859-2"),
        (POLISH, "cp1250"),
        (CZECH, "iso8859-2"),
        (GREEK, "iso8859-7"),
        (TURKISH, "iso8859-9"),
    ],
)
def test_legacy_code_pages_are_detected_and_read_as_written(tmp_path: Path, text: str, codec: str) -> None:
    article, skipped, notes = _read_one(tmp_path, "a.txt", text.encode(codec))
    assert not skipped
    assert article is not None
    assert article.raw_text == text  # every letter as written, not one garbled
    assert [article.title, *article.paragraphs] == _lines(text)
    assert article.encoding != "utf-8"
    assert notes["a.txt"].startswith("not UTF-8: decoded as ")


@pytest.mark.parametrize(("codec", "name"), [("utf-16", "utf-16-le"), ("utf-16-be", "utf-16-be"),
                                             ("utf-8-sig", "utf-8-sig"), ("utf-32", "utf-32-le")])
def test_byte_order_marks_decide(tmp_path: Path, codec: str, name: str) -> None:
    text = SEED.read_text(encoding="utf-8")
    data = text.encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data
    article, skipped, notes = _read_one(tmp_path, "a.txt", data)
    assert not skipped and not notes
    assert article is not None
    assert article.encoding == name
    assert article.raw_text == text and not article.title.startswith("\ufeff")


def test_crlf_line_breaks_are_read_as_paragraph_breaks(tmp_path: Path) -> None:
    article, _, _ = _read_one(tmp_path, "a.txt", FRENCH.replace("\n", "\r\n").encode("utf-8"))
    assert article is not None
    assert [article.title, *article.paragraphs] == _lines(FRENCH)
    assert "\r" not in article.raw_text


def test_too_little_evidence_is_refused_with_the_offset(tmp_path: Path) -> None:
    data = "Headline\nUn café à Paris.\n".encode("latin-1")
    _, skipped, _ = _read_one(tmp_path, "short.txt", data)
    reason = skipped["short.txt"]
    e_acute, a_grave = data.index(b"\xe9"), data.index(b"\xe0")
    assert reason.startswith(f"not valid UTF-8 (byte {e_acute}: b'\\xe9'; also at {a_grave}; 2 invalid in all)")
    assert "too few to tell its encoding" in reason


def test_damaged_utf8_is_refused_with_every_offset_not_reinterpreted(tmp_path: Path) -> None:
    data = bytearray(SEED.read_bytes())
    first, second = 120, 1500
    while data[first] & 0xC0 != 0xC0:  # put the bad bytes where a character starts
        first += 1
    while data[second] & 0xC0 != 0xC0:
        second += 1
    data[first] = 0xFF
    data[second] = 0xFE
    _, skipped, _ = _read_one(tmp_path, "damaged.txt", bytes(data))
    reason = skipped["damaged.txt"]
    assert reason.startswith(f"not valid UTF-8 (byte {first}: b'\\xff'; also at {first + 1}, {second}")
    assert "damaged UTF-8" in reason


def test_bytes_no_encoding_reads_with_confidence_are_refused(tmp_path: Path) -> None:
    data = ("Заголовок новости\n".encode("cp1251") + "وصل وزير الخارجية إلى العاصمة\n".encode("cp1256")
            + "Le président a annoncé à Paris.\n".encode("latin-1"))
    _, skipped, _ = _read_one(tmp_path, "mixed.txt", data)
    assert skipped["mixed.txt"].startswith("not valid UTF-8 (byte 0: b'\\xc7'; also at 1, 2, 3;")
    assert skipped["mixed.txt"].endswith("no other encoding reads it with confidence; save it as UTF-8")


def test_invalid_utf8_lists_offsets() -> None:
    assert invalid_utf8(b"ok") is None
    assert invalid_utf8(b"ab\xe9cd\xff") == "not valid UTF-8 (byte 2: b'\\xe9'; also at 5; 2 invalid in all)"


def test_a_prefix_cut_inside_a_character_is_not_an_error() -> None:
    data = "خبر عاجل".encode()
    decoded = decode_bytes(data[:-1], final=False)  # the last letter cut in half
    assert decoded.text == "خبر عاج" and decoded.encoding == "utf-8"
    legacy = decode_bytes(RUSSIAN.encode("cp1251")[:120], final=False)
    assert RUSSIAN.startswith(legacy.text)


def test_plausibility_sees_letters_of_the_wrong_language() -> None:
    assert plausibility(FRENCH) == 1.0
    assert plausibility(FRENCH.encode("cp1252").decode("cp1250")) < 0.95  # "ŕ" for "à", "č" for "è"
    assert plausibility(CZECH.encode("iso8859-2").decode("cp1250")) < 0.9
    assert plausibility(RUSSIAN.encode("cp1251").decode("cp1252")) < 0.9
    assert plausibility("A magyar korm ny szerd n Јj int‚zked‚sek") < 0.9  # a Cyrillic letter inside a Latin word


def test_undecodable_text_never_raises_anything_but_input_error() -> None:
    for data in (b"\x80" * 50, bytes(range(0x80, 0x100)) * 4, b"caf\xe9 " * 20):
        try:
            decode_bytes(data)
        except InputError:
            pass


def test_invalid_bytes_after_a_byte_order_mark_are_refused_not_detected() -> None:
    with pytest.raises(InputError, match=r"^not valid UTF-8 \(byte 6: b'\\xff'\) despite its byte-order mark$"):
        decode_bytes(b"\xef\xbb\xbfabc\xffdef")
    lone_surrogate = "\ufeffabcd".encode("utf-16-le") + b"\x00\xdc" + "ab".encode("utf-16-le")
    with pytest.raises(InputError, match=r"^not valid UTF-16-LE \(byte 10: "):
        decode_bytes(lone_surrogate)
