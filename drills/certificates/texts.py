"""The certificate's words, in French and English."""

LANGUAGES = ("fr", "en")

TEXT = {
    "title": {"fr": "Certificat de réversibilité — restauration vérifiée",
              "en": "Reversibility certificate — verified restore"},
    "statement": {
        "fr": "La sauvegarde {backup} du site {site} ({site_id}) a été restaurée intégralement le {date}, "
              "dans un conteneur isolé sans réseau, puis vérifiée : {tables} tables et {rows} lignes, "
              "conformes à ce qui avait été enregistré au moment de la sauvegarde. Ce certificat est la forme "
              "lisible d'un rapport signé (Ed25519), joint à ce document.",
        "en": "The backup {backup} of the site {site} ({site_id}) was restored in full on {date}, in an isolated "
              "container with no network, then verified: {tables} tables and {rows} rows, matching what was "
              "recorded when the backup was taken. This certificate is the human form of a signed report "
              "(Ed25519), attached to this document."},
    "statement.identical": {
        "fr": "Les lignes restaurées sont identiques à celles de la source au moment de la sauvegarde : l'empreinte "
              "du contenu de chaque table, calculée par le serveur dans l'instantané du dump, est la même.",
        "en": "The restored rows are identical to the source's at backup time: every table's content "
              "fingerprint, computed by the server in the dump's own snapshot, is the same."},
    "months": {"fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
               "en": "January February March April May June July August September October November December"},
    "section.site": {"fr": "Site", "en": "Site"},
    "site.name": {"fr": "Nom", "en": "Name"},
    "site.id": {"fr": "Identifiant", "en": "Identifier"},
    "site.tenant": {"fr": "Prestataire", "en": "Provider"},
    "section.backup": {"fr": "Sauvegarde restaurée", "en": "Backup restored"},
    "backup.name": {"fr": "Objet", "en": "Object"},
    "backup.size": {"fr": "Taille (chiffrée)", "en": "Size (encrypted)"},
    "bytes": {"fr": "{size} octets", "en": "{size} bytes"},
    "backup.sha256": {"fr": "SHA-256 du fichier chiffré", "en": "SHA-256 of the encrypted file"},
    "backup.taken_at": {"fr": "Prise le", "en": "Taken at"},
    "backup.manifest": {"fr": "Manifeste", "en": "Manifest"},
    "section.drill": {"fr": "Exercice de restauration", "en": "Restore drill"},
    "drill.id": {"fr": "Identifiant", "en": "Identifier"},
    "drill.outcome": {"fr": "Verdict", "en": "Verdict"},
    "outcome.pass": {"fr": "RÉUSSI (PASS)", "en": "PASSED (PASS)"},
    "drill.started": {"fr": "Début", "en": "Started"},
    "drill.finished": {"fr": "Fin", "en": "Finished"},
    "drill.engine": {"fr": "Moteur", "en": "Engine"},
    "drill.host": {"fr": "Hôte", "en": "Host"},
    "drill.version": {"fr": "Version de Restore Drill", "en": "Restore Drill version"},
    "drill.image_id": {"fr": "Empreinte de l'image de restauration", "en": "Restore image digest"},
    "drill.server_version": {"fr": "Version du serveur restauré", "en": "Restored server's version"},
    "section.hosting": {"fr": "Hébergement des données", "en": "Where the data is hosted"},
    "statement.hosting": {
        "fr": "Les sauvegardes sont hébergées {where}{outside}{host}{certified} ; lieu établi lors de l'exercice{read}.",
        "en": "The backups are hosted {where}{outside}{host}{certified}; location established at the drill{read}."},
    "hosting.read": {"fr": " (région {region} lue auprès du service de stockage)",
                     "en": " (region {region} read from the storage service)"},
    "hosting.declared": {"fr": " (pays déclaré par le prestataire)", "en": " (country declared by the provider)"},
    "section.timings": {"fr": "Durées", "en": "Timings"},
    "phase.fetch": {"fr": "Récupération", "en": "Fetch"},
    "phase.decrypt": {"fr": "Déchiffrement", "en": "Decrypt"},
    "phase.restore": {"fr": "Restauration", "en": "Restore"},
    "phase.verify": {"fr": "Vérification", "en": "Verify"},
    "phase.teardown": {"fr": "Nettoyage", "en": "Teardown"},
    "timing.rto": {"fr": "RTO mesuré / objectif", "en": "Measured RTO / target"},
    "section.signature": {"fr": "Signature", "en": "Signature"},
    "signature.key_id": {"fr": "Clé de signature", "en": "Signing key"},
    "signature.fingerprint": {"fr": "Empreinte SHA-256 de la clé publique", "en": "SHA-256 fingerprint of the public key"},
    "signature.report_sha256": {"fr": "SHA-256 du rapport signé", "en": "SHA-256 of the signed report"},
    "signature.chain": {"fr": "Position dans la chaîne", "en": "Position in the chain"},
    "signature.previous": {"fr": "précédent", "en": "previous"},
    "status.pass": {"fr": "conforme", "en": "pass"},
    "status.warn": {"fr": "à noter", "en": "warning"},
    "status.fail": {"fr": "ÉCHEC", "en": "FAIL"},
    "label.table": {"fr": "Table", "en": "Table"},
    "label.expected": {"fr": "Attendu", "en": "Expected"},
    "label.restored": {"fr": "Restauré", "en": "Restored"},
    "label.fingerprint": {"fr": "Empreinte du contenu", "en": "Content fingerprint"},
    "label.status": {"fr": "État", "en": "Status"},
    "label.check": {"fr": "Contrôle", "en": "Check"},
    "label.subject": {"fr": "Objet", "en": "Subject"},
    "label.tables": {"fr": "Tables restaurées et leurs lignes", "en": "Tables restored and their rows"},
    "label.checks": {"fr": "Autres contrôles", "en": "Other checks"},
    "label.verify": {"fr": "Comment vérifier ce certificat", "en": "How to verify this certificate"},
    "label.generated": {"fr": "Généré par Restore Drill", "en": "Generated by Restore Drill"},
    "verify.extract": {
        "fr": "1. Extraire les pièces jointes (le rapport signé {name}, sa signature, la clé publique) : "
              "pdfdetach -saveall sur le PDF, ou les liens du HTML.",
        "en": "1. Extract the attachments (the signed report {name}, its signature, the public key): "
              "pdfdetach -saveall on the PDF, or the HTML's links."},
    "verify.hash": {"fr": "2. Son SHA-256 doit être {digest}.", "en": "2. Its SHA-256 must be {digest}."},
    "verify.command": {
        "fr": "3. drill verify-report {name} --public-key signing.pub (clé publique jointe) : VALID attendu.",
        "en": "3. drill verify-report {name} --public-key signing.pub (public key attached): expect VALID."},
    "verify.openssl": {
        "fr": "3. openssl pkeyutl -verify -pubin -inkey signing.pub -rawin -in {name} -sigfile {signature} "
              "(signature et clé publique jointes) : « Signature Verified Successfully » attendu "
              "(ou drill verify-report {name} --public-key signing.pub).",
        "en": "3. openssl pkeyutl -verify -pubin -inkey signing.pub -rawin -in {name} -sigfile {signature} "
              "(signature and public key attached): expect \"Signature Verified Successfully\" "
              "(or drill verify-report {name} --public-key signing.pub)."},
    "verify.key": {
        "fr": "4. Comparer l'empreinte de la clé, {fingerprint}, à celle publiée par le prestataire "
              "(drill keys export-public).",
        "en": "4. Compare the key's fingerprint, {fingerprint}, with the one the provider publishes "
              "(drill keys export-public)."},
}


def text(lang: str, key: str, **values) -> str:
    return TEXT[key][lang].format(**values)
