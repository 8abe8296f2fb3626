"""Collation: what a French, German or Russian reader expects, not code-point order."""
from __future__ import annotations

import random

from petition.collation import sort_key, sorted_by, stored_key


def test_french_accents_sort_with_their_letter():
    names = ["Zambie", "Éthiopie", "Espagne", "Égypte", "Allemagne", "Estonie", "États-Unis"]
    assert sorted_by(names, key=str, lang="fr") == [
        "Allemagne", "Égypte", "Espagne", "Estonie", "États-Unis", "Éthiopie", "Zambie",
    ]
    # What sorted() on raw strings would do: every É after Z.
    assert sorted(names).index("Égypte") > sorted(names).index("Zambie")


def test_german_umlauts_and_sharp_s():
    names = ["Zürich", "Müller", "Mueller", "Muller", "Straße", "Strasse", "Österreich", "Ost"]
    ordered = sorted_by(names, key=str, lang="de")
    assert ordered.index("Österreich") < ordered.index("Straße") < ordered.index("Zürich")
    assert ordered[:2] == ["Mueller", "Muller"] and ordered[2] == "Müller"


def test_case_is_a_tie_breaker_only():
    assert sorted_by(["b", "A", "a", "B"], key=str, lang="en") == ["a", "A", "b", "B"]


def test_russian_reader_sees_cyrillic_first_and_yo_with_ye():
    names = ["Abbott", "Ярцев", "Ёлкин", "Жуков", "Елкин", "Ершов", "Zola"]
    assert sorted_by(names, key=str, lang="ru") == [
        "Елкин", "Ёлкин", "Ершов", "Жуков", "Ярцев", "Abbott", "Zola",
    ]
    # Everyone else reads Latin first.
    assert sorted_by(names, key=str, lang="fr")[:2] == ["Abbott", "Zola"]


def test_script_rank_looks_past_punctuation():
    assert sort_key("«Мемориал»", "ru")[0] == 0
    assert sort_key("(Amnesty)", "ru")[0] == 1


def test_stored_keys_order_like_the_collator():
    rng = random.Random(7)
    alphabet = "aeéèëEÉbcçCdoöøœOßsSzZ -'’.,0123абвгдеёжзийклмнопрстуфхцчшщъыьэюяЁЕ中文😀"
    words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(400)]
    by_bytes = sorted(words, key=stored_key)
    by_tuples = sorted(words, key=lambda word: sort_key(word, "fr")[1])
    assert [stored_key(w) for w in by_bytes] == [stored_key(w) for w in by_tuples]


def test_stored_key_is_bytes_of_16_bit_weights():
    key = stored_key("Égypte 中文 \U0010fffd")
    assert isinstance(key, bytes) and len(key) % 2 == 0
    assert stored_key("a") < stored_key("ab") < stored_key("b")
