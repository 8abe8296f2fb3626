"""Acceptance: 40 organisations from 15 countries, a region and an international group sign
through the form and confirm by mail; the French export is the list as the press expects it.
"""
from __future__ import annotations

import io
import random
from pathlib import Path

import docx

from .helpers import confirm_token_from, outbox, sign_form

SIGNATORIES = {
    "DE": ["Linksjugend ['solid]", "Campagne #FREE120", "Die Linke Berlin",
           "BAG Russischsprachige Linke"],
    "AR": ["Partido Obrero", "Izquierda Socialista"],
    "BE": ["Gauche anticapitaliste", "Comité de soutien belge"],
    "BR": ["PSOL", "Movimento Esquerda Socialista"],
    "CA": ["Solidarité Québec", "Canadian Peace Congress"],
    "ES": ["Sindicato Andaluz de Trabajadores", "Confederación General del Trabajo CGT",
           "Anticapitalistas"],
    "US": ["Tempest Collective", "Democratic Socialists of America", "Haymarket Books"],
    "FR": ["Union syndicale Solidaires", "Ensemble !", "Éditions Syllepse", "Attac France",
           "Nouveau Parti anticapitaliste"],
    "GR": ["Ξεκίνημα", "DEA Greece"],
    "IT": ["Sinistra Anticapitalista", "Rifondazione Comunista"],
    "PL": ["Razem", "Lewica Razem Kraków"],
    "GB": ["Ukraine Solidarity Campaign", "Anti*Capitalist Resistance",
           "Labour Representation Committee"],
    "RU": ["Российское социалистическое движение", "Вперёд"],
    "CH": ["solidaritéS", "BFS Zürich"],
    "UA": ["Соціальний рух Київ", "Sotsialnyi Rukh"],
    "europe": ["European Network for Solidarity with Ukraine"],
    "international": ["Boris Kagarlitsky International Solidarity Campaign"],
}

EXPECTED = """Allemagne
BAG Russischsprachige Linke
Campagne #FREE120
Die Linke Berlin
Linksjugend ['solid]

Argentine
Izquierda Socialista
Partido Obrero

Belgique
Comité de soutien belge
Gauche anticapitaliste

Brésil
Movimento Esquerda Socialista
PSOL

Canada
Canadian Peace Congress
Solidarité Québec

Etat espagnol
Anticapitalistas
Confederación General del Trabajo CGT
Sindicato Andaluz de Trabajadores

États-Unis
Democratic Socialists of America
Haymarket Books
Tempest Collective

France
Attac France
Éditions Syllepse
Ensemble !
Nouveau Parti anticapitaliste
Union syndicale Solidaires

Grèce
DEA Greece
Ξεκίνημα

Italie
Rifondazione Comunista
Sinistra Anticapitalista

Pologne
Lewica Razem Kraków
Razem

Royaume-Uni
Anti*Capitalist Resistance
Labour Representation Committee
Ukraine Solidarity Campaign

Russie
Вперёд
Российское социалистическое движение

Suisse
BFS Zürich
solidaritéS

Ukraine
Sotsialnyi Rukh
Соціальний рух Київ

Europe
European Network for Solidarity with Ukraine

Organisation internationale
Boris Kagarlitsky International Solidarity Campaign
"""


def _sign_and_confirm(client, country: str, name: str, number: int) -> None:
    response = client.post("/letters/appeal/sign?lang=fr", data=sign_form(
        signer_type="organization", name=name, affiliation="", country=country,
        email=f"contact{number}@org{number}.example", display="full",
    ), follow_redirects=True)
    assert response.status_code == 200, response.get_data(as_text=True)
    token = confirm_token_from(outbox()[-1])
    assert client.get(f"/confirm/{token}").status_code == 200
    assert client.post(f"/confirm/{token}").status_code == 200


def test_forty_organisations_signed_through_the_form_export_as_the_press_expects(app, client,
                                                                                 runner):
    assert runner.invoke(args=["letter", "create", "appeal", "--lang", "fr",
                               "--title", "Libérez Boris Kagarlitsky"]).exit_code == 0
    assert runner.invoke(args=["letter", "label", "appeal", "--lang", "fr", "ES",
                               "Etat espagnol"]).exit_code == 0
    assert runner.invoke(args=["letter", "label", "appeal", "--lang", "fr", "international",
                               "Organisation internationale"]).exit_code == 0
    rows = [(country, name) for country, names in SIGNATORIES.items() for name in names]
    assert len(rows) == 40 and len(SIGNATORIES) - 2 == 15
    random.Random(21).shuffle(rows)  # people sign in no particular order
    for number, (country, name) in enumerate(rows):
        _sign_and_confirm(client, country, name, number)

    result = runner.invoke(args=["export", "appeal", "--format", "txt", "--lang", "fr"])
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip())
    assert path.name == "appeal-press-fr.txt"
    assert path.read_text(encoding="utf-8") == EXPECTED
    # The public page offers the same list.
    assert client.get("/letters/appeal/signatories.txt?lang=fr").get_data(as_text=True) == EXPECTED

    # And the Word file a press officer pastes from has the same headings in the same order.
    result = runner.invoke(args=["export", "appeal", "--format", "docx", "--lang", "fr",
                                 "--out", "-"])
    paragraphs = docx.Document(io.BytesIO(result.stdout_bytes)).paragraphs
    headings = [p.text for p in paragraphs if p.style.name == "Heading 2"]
    assert headings == [block.split("\n")[0] for block in EXPECTED.strip().split("\n\n")]
