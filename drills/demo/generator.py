"""A realistic pharmacy database (LGO-like) at a chosen scale, as a stream of SQL.

Patients, prescribers (RPPS numbers), products with CIP13 codes, prescriptions and their
lines, sales, invoices (with the AMO/AMC split of French reimbursement) and stock
movements, with foreign keys, French names and plausible dates. Deterministic for a seed.
Row counts grow linearly with `patients`.
"""

import random
from datetime import date, datetime, timedelta, timezone
from typing import Iterator

SCHEMA = """
CREATE TABLE prescripteurs (id integer PRIMARY KEY, rpps char(11) NOT NULL UNIQUE, nom text NOT NULL,
  prenom text NOT NULL, specialite text NOT NULL, ville text NOT NULL);
CREATE TABLE patients (id integer PRIMARY KEY, nom text NOT NULL, prenom text NOT NULL, sexe char(1) NOT NULL,
  date_naissance date NOT NULL, code_postal char(5) NOT NULL, ville text NOT NULL, telephone text,
  organisme_complementaire text);
CREATE TABLE produits (id integer PRIMARY KEY, cip13 char(13) NOT NULL UNIQUE, libelle text NOT NULL,
  prix_ttc numeric(8,2) NOT NULL, taux_remboursement smallint NOT NULL, tva numeric(4,2) NOT NULL);
CREATE TABLE ordonnances (id integer PRIMARY KEY, patient_id integer NOT NULL,
  prescripteur_id integer NOT NULL, date_prescription date NOT NULL, date_delivrance date NOT NULL);
CREATE TABLE lignes_ordonnance (id integer PRIMARY KEY, ordonnance_id integer NOT NULL,
  produit_id integer NOT NULL, quantite smallint NOT NULL, posologie text NOT NULL);
CREATE TABLE ventes (id integer PRIMARY KEY, patient_id integer, vendu_le timestamptz NOT NULL,
  montant_ttc numeric(10,2) NOT NULL, mode_paiement text NOT NULL);
CREATE TABLE factures (id integer PRIMARY KEY, ordonnance_id integer NOT NULL,
  patient_id integer NOT NULL, date_facture date NOT NULL, montant_ttc numeric(10,2) NOT NULL,
  part_amo numeric(10,2) NOT NULL, part_amc numeric(10,2) NOT NULL, statut text NOT NULL);
CREATE TABLE mouvements_stock (id integer PRIMARY KEY, produit_id integer NOT NULL,
  mouvement_le timestamptz NOT NULL, quantite integer NOT NULL, motif text NOT NULL);
"""

# Added once the data is in, as pg_dump does: checking keys row by row during COPY is slow.
CONSTRAINTS = """
ALTER TABLE ordonnances ADD FOREIGN KEY (patient_id) REFERENCES patients,
  ADD FOREIGN KEY (prescripteur_id) REFERENCES prescripteurs;
ALTER TABLE lignes_ordonnance ADD CONSTRAINT lignes_ordonnance_ordonnance_id_fkey
  FOREIGN KEY (ordonnance_id) REFERENCES ordonnances, ADD FOREIGN KEY (produit_id) REFERENCES produits;
ALTER TABLE ventes ADD FOREIGN KEY (patient_id) REFERENCES patients;
ALTER TABLE factures ADD FOREIGN KEY (ordonnance_id) REFERENCES ordonnances,
  ADD FOREIGN KEY (patient_id) REFERENCES patients;
ALTER TABLE mouvements_stock ADD FOREIGN KEY (produit_id) REFERENCES produits;
CREATE INDEX ON ordonnances (patient_id);
CREATE INDEX ON lignes_ordonnance (ordonnance_id);
CREATE INDEX ON factures (patient_id);
CREATE INDEX ON ventes (vendu_le);
"""

NOMS = ("Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel Lefebvre Leroy "
        "Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau Vincent Muller Lefevre "
        "Faure Andre Mercier Blanc Guerin Boyer Garnier Chevalier Francois Legrand Gauthier Garcia Perrin Robin "
        "Clement Morin Nicolas Henry Roussel Mathieu Gautier Masson Le\u00a0Gall Le\u00a0Goff Kerbrat").split()
PRENOMS = ("Marie Jean Pierre Michel Andr\u00e9 Philippe Nathalie Isabelle Sylvie Catherine Fran\u00e7oise Jacques "
           "Monique Christine Val\u00e9rie Sandrine Camille L\u00e9a Manon Chlo\u00e9 Emma In\u00e8s Louise Hugo "
           "Lucas Gabriel Rapha\u00ebl Arthur Ma\u00ebl Nolan Yann Gw\u00e9na\u00eblle Ana\u00efs Jos\u00e9").split()
VILLES = (("29200", "Brest"), ("29000", "Quimper"), ("56100", "Lorient"), ("35000", "Rennes"),
          ("44000", "Nantes"), ("22000", "Saint-Brieuc"), ("29600", "Morlaix"), ("13002", "Marseille"))
SPECIALITES = ("M\u00e9decine g\u00e9n\u00e9rale", "P\u00e9diatrie", "Cardiologie", "Dermatologie",
               "Gyn\u00e9cologie", "Rhumatologie", "Chirurgien-dentiste", "Sage-femme")
MOLECULES = ("Parac\u00e9tamol 1000 mg", "Ibuprof\u00e8ne 400 mg", "Amoxicilline 1 g", "Lévothyroxine 75 µg",
             "Metformine 850 mg", "Atorvastatine 20 mg", "Oméprazole 20 mg", "Ramipril 5 mg",
             "Salbutamol 100 µg", "Amlodipine 5 mg", "Tramadol 50 mg", "Bisoprolol 2,5 mg")
FORMES = ("cpr", "g\u00e9l", "sachet", "sol buv", "susp inh")
POSOLOGIES = ("1 matin et soir", "1 par jour", "3 par jour pendant 7 jours", "si douleur, max 3 par jour",
              "2 bouffées si besoin", "1 le soir au coucher")
PAIEMENTS = ("carte", "esp\u00e8ces", "tiers payant", "ch\u00e8que")
ORGANISMES = ("MGEN", "Harmonie Mutuelle", "Malakoff Humanis", "AG2R", "Mutuelle de Bretagne", None)
MOTIFS = ("r\u00e9ception grossiste", "d\u00e9livrance", "inventaire", "p\u00e9rim\u00e9")


def table_sizes(patients: int) -> dict[str, int]:
    """How many rows each table gets for a number of patients."""
    return {
        "prescripteurs": max(5, patients // 25), "patients": patients, "produits": max(50, min(5000, patients)),
        "ordonnances": patients * 3, "lignes_ordonnance": patients * 7, "ventes": patients * 4,
        "factures": patients * 3, "mouvements_stock": patients * 5,
    }


def cip13(product_id: int) -> str:
    """A unique CIP13 code: the 34009 prefix, 7 digits spread from the id, EAN-13 check digit."""
    body = "34009" + f"{product_id * 7919 % 10**7:07d}"
    total = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(body))
    return body + str((10 - total % 10) % 10)


def copy_value(value) -> str:
    if value is None:
        return "\\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def copy_block(table: str, columns: str, rows: Iterator[tuple]) -> Iterator[str]:
    yield f"COPY {table} ({columns}) FROM stdin;\n"
    batch = []
    for row in rows:
        batch.append("\t".join(copy_value(value) for value in row))
        if len(batch) == 5000:
            yield "\n".join(batch) + "\n"
            batch = []
    if batch:
        yield "\n".join(batch) + "\n"
    yield "\\.\n"


def pharmacy_sql(patients: int, seed: int = 1, as_of: datetime | None = None) -> Iterator[bytes]:
    """SQL (schema, COPY data, keys and indexes) for a pharmacy of `patients` patients, in
    chunks; its activity ends at `as_of` (now by default): the newest sale is just before it."""
    rng, sizes = random.Random(seed), table_sizes(patients)
    as_of = (as_of or datetime.now(timezone.utc)).replace(microsecond=0)
    yield SCHEMA.encode()
    for table, columns, rows in tables(rng, sizes, as_of):
        for text in copy_block(table, columns, rows):
            yield text.encode()
    yield (CONSTRAINTS + "ANALYZE;\n").encode()


def tables(rng: random.Random, sizes: dict[str, int], as_of: datetime):
    def day(days_back: int) -> date:
        return as_of.date() - timedelta(days=rng.randrange(days_back))

    def moment(days_back: int) -> str:
        return (as_of - timedelta(minutes=1 + rng.randrange(days_back * 1440))).isoformat()

    n = sizes
    yield "prescripteurs", "id, rpps, nom, prenom, specialite, ville", (
        (i, f"10{i * 7919 % 10**9:09d}", rng.choice(NOMS), rng.choice(PRENOMS), rng.choice(SPECIALITES),
         rng.choice(VILLES)[1]) for i in range(1, n["prescripteurs"] + 1))
    yield "patients", ("id, nom, prenom, sexe, date_naissance, code_postal, ville, telephone, "
                       "organisme_complementaire"), (
        (i, rng.choice(NOMS), rng.choice(PRENOMS), rng.choice("FM"), day(95 * 365), *rng.choice(VILLES),
         f"0{rng.choice('2679')}{rng.randrange(10**8):08d}", rng.choice(ORGANISMES))
        for i in range(1, n["patients"] + 1))
    yield "produits", "id, cip13, libelle, prix_ttc, taux_remboursement, tva", (
        (i, cip13(i) if i > 1 else "3400930000007", f"{rng.choice(MOLECULES)} {rng.choice(FORMES)} "
         f"b/{rng.choice((8, 16, 20, 30, 90))} #{i}", f"{rng.uniform(1.5, 80):.2f}", rng.choice((15, 30, 65, 100)),
         rng.choice(("2.10", "5.50", "10.00", "20.00"))) for i in range(1, n["produits"] + 1))
    yield "ordonnances", "id, patient_id, prescripteur_id, date_prescription, date_delivrance", (
        (i, rng.randint(1, n["patients"]), rng.randint(1, n["prescripteurs"]), prescribed,
         prescribed + timedelta(days=rng.randrange(4)))
        for i in range(1, n["ordonnances"] + 1) for prescribed in [day(3 * 365)])
    yield "lignes_ordonnance", "id, ordonnance_id, produit_id, quantite, posologie", (
        (i, rng.randint(1, n["ordonnances"]), rng.randint(1, n["produits"]), rng.randint(1, 3),
         rng.choice(POSOLOGIES)) for i in range(1, n["lignes_ordonnance"] + 1))
    yield "ventes", "id, patient_id, vendu_le, montant_ttc, mode_paiement", (
        (i, rng.choice((None, rng.randint(1, n["patients"]))),
         moment(3 * 365) if i < n["ventes"] else (as_of - timedelta(minutes=5)).isoformat(),  # open today
         f"{rng.uniform(2, 150):.2f}", rng.choice(PAIEMENTS)) for i in range(1, n["ventes"] + 1))
    yield "factures", "id, ordonnance_id, patient_id, date_facture, montant_ttc, part_amo, part_amc, statut", (
        (i, i, rng.randint(1, n["patients"]), day(3 * 365), f"{total:.2f}", f"{total * 0.65:.2f}",
         f"{total * 0.35:.2f}", rng.choice(("pay\u00e9e", "transmise", "rejet\u00e9e", "en attente")))
        for i in range(1, n["factures"] + 1) for total in [rng.uniform(3, 250)])
    yield "mouvements_stock", "id, produit_id, mouvement_le, quantite, motif", (
        (i, rng.randint(1, n["produits"]), moment(3 * 365), rng.choice((-3, -2, -1, -1, 6, 12, 24)),
         rng.choice(MOTIFS)) for i in range(1, n["mouvements_stock"] + 1))
