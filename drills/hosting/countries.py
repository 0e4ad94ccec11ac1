"""Countries as data: the ISO 3166-1 codes, the European Economic Area, and how people read them.

Sources (docs/hosting.md):
- ISO 3166-1 alpha-2: the 249 codes of Debian's iso-codes 4.15 (`/usr/share/iso-codes/json/
  iso_3166-1.json`; tests/unit/test_hosting.py compares when the file is there).
- The EEA: the 27 member states of the European Union (europa.eu, "EU countries") and Iceland,
  Liechtenstein and Norway (the EEA Agreement, OJ L 1, 3.1.1994; efta.int). Greece is GR in
  ISO 3166 (EL in the EU's own usage).
- Parts of the EU that ISO 3166 codes apart: the outermost regions of France (Guadeloupe, French
  Guiana, Martinique, Mayotte, La Réunion, Saint-Martin; TFEU art. 349 and 355(1)) and the Åland
  Islands (Finland, TFEU art. 355(4)). The Azores, Madeira and the Canary Islands have no code of
  their own (PT, ES). Switzerland and the United Kingdom are not in the EEA.
"""

ISO_3166_ALPHA2 = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO
FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE
JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO
MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW
PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM
TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split())

EU_MEMBER_STATES = frozenset("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())
EFTA_IN_EEA = frozenset("IS LI NO".split())
EU_TERRITORIES_CODED_APART = frozenset("GP GF MQ YT RE MF AX".split())
EEA = EU_MEMBER_STATES | EFTA_IN_EEA | EU_TERRITORIES_CODED_APART

# code: (French name, "in" it in French, English name, "in" it in English); other codes are shown as they are.
NAMES = {
    "AT": ("Autriche", "en Autriche", "Austria", "in Austria"),
    "BE": ("Belgique", "en Belgique", "Belgium", "in Belgium"),
    "BG": ("Bulgarie", "en Bulgarie", "Bulgaria", "in Bulgaria"),
    "CY": ("Chypre", "à Chypre", "Cyprus", "in Cyprus"),
    "CZ": ("Tchéquie", "en Tchéquie", "Czechia", "in Czechia"),
    "DE": ("Allemagne", "en Allemagne", "Germany", "in Germany"),
    "DK": ("Danemark", "au Danemark", "Denmark", "in Denmark"),
    "EE": ("Estonie", "en Estonie", "Estonia", "in Estonia"),
    "ES": ("Espagne", "en Espagne", "Spain", "in Spain"),
    "FI": ("Finlande", "en Finlande", "Finland", "in Finland"),
    "FR": ("France", "en France", "France", "in France"),
    "GR": ("Grèce", "en Grèce", "Greece", "in Greece"),
    "HR": ("Croatie", "en Croatie", "Croatia", "in Croatia"),
    "HU": ("Hongrie", "en Hongrie", "Hungary", "in Hungary"),
    "IE": ("Irlande", "en Irlande", "Ireland", "in Ireland"),
    "IT": ("Italie", "en Italie", "Italy", "in Italy"),
    "LT": ("Lituanie", "en Lituanie", "Lithuania", "in Lithuania"),
    "LU": ("Luxembourg", "au Luxembourg", "Luxembourg", "in Luxembourg"),
    "LV": ("Lettonie", "en Lettonie", "Latvia", "in Latvia"),
    "MT": ("Malte", "à Malte", "Malta", "in Malta"),
    "NL": ("Pays-Bas", "aux Pays-Bas", "the Netherlands", "in the Netherlands"),
    "PL": ("Pologne", "en Pologne", "Poland", "in Poland"),
    "PT": ("Portugal", "au Portugal", "Portugal", "in Portugal"),
    "RO": ("Roumanie", "en Roumanie", "Romania", "in Romania"),
    "SE": ("Suède", "en Suède", "Sweden", "in Sweden"),
    "SI": ("Slovénie", "en Slovénie", "Slovenia", "in Slovenia"),
    "SK": ("Slovaquie", "en Slovaquie", "Slovakia", "in Slovakia"),
    "IS": ("Islande", "en Islande", "Iceland", "in Iceland"),
    "LI": ("Liechtenstein", "au Liechtenstein", "Liechtenstein", "in Liechtenstein"),
    "NO": ("Norvège", "en Norvège", "Norway", "in Norway"),
    "GP": ("Guadeloupe", "en Guadeloupe", "Guadeloupe", "in Guadeloupe"),
    "GF": ("Guyane", "en Guyane", "French Guiana", "in French Guiana"),
    "MQ": ("Martinique", "en Martinique", "Martinique", "in Martinique"),
    "YT": ("Mayotte", "à Mayotte", "Mayotte", "in Mayotte"),
    "RE": ("La Réunion", "à La Réunion", "Réunion", "in Réunion"),
    "MF": ("Saint-Martin", "à Saint-Martin", "Saint Martin", "in Saint Martin"),
    "AX": ("Åland", "aux îles Åland", "the Åland Islands", "in the Åland Islands"),
    "CH": ("Suisse", "en Suisse", "Switzerland", "in Switzerland"),
    "GB": ("Royaume-Uni", "au Royaume-Uni", "the United Kingdom", "in the United Kingdom"),
    "US": ("États-Unis", "aux États-Unis", "the United States", "in the United States"),
    "CA": ("Canada", "au Canada", "Canada", "in Canada"),
}


def country_code(value) -> str:
    """An ISO 3166-1 alpha-2 code as the catalog gives it (`fr` or `FR`); ValueError otherwise."""
    code = value.strip().upper() if isinstance(value, str) else None
    if code not in ISO_3166_ALPHA2:
        raise ValueError(f"expected a country's ISO 3166-1 alpha-2 code such as FR, got {value!r}")
    return code


def in_eea(code: str | None) -> bool | None:
    return None if code is None else code in EEA


def name(code: str, lang: str) -> str:
    """France / the Netherlands; the code itself for a country without a name here."""
    names = NAMES.get(code)
    return names[0 if lang == "fr" else 2] if names else code


def located(code: str, lang: str) -> str:
    """en France / aux Pays-Bas / in the Netherlands; "dans le pays XX" / "in XX" otherwise."""
    names = NAMES.get(code)
    if names:
        return names[1 if lang == "fr" else 3]
    return f"dans le pays {code}" if lang == "fr" else f"in {code}"
