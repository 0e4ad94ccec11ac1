"""The compliance report's words, in French and English, and the requirements it evidences:
quoted where the exact wording was found in a published source, else named and paraphrased,
marked as such (docs/compliance-report.md gives the sources)."""

from drills.certificates.texts import LANGUAGES

TEXT = {
    "title": {
        "fr": "Rapport de conformité des sauvegardes — {tenant} — {month}",
        "en": "Backup compliance report — {tenant} — {month}"},
    "intro": {
        "fr": "Pour chaque site du prestataire {tenant}, les exercices de restauration du {start} au {until} (UTC) : "
              "chaque sauvegarde a été restaurée dans un conteneur isolé puis vérifiée. Chaque chiffre renvoie aux "
              "rapports signés (Ed25519) dont il provient, listés en annexe avec leur SHA-256.",
        "en": "For every site of the tenant {tenant}, the restore drills from {start} to {until} (UTC): each backup "
              "was restored in an isolated container, then verified. Every figure names the signed reports (Ed25519) "
              "it comes from, listed in the annex with their SHA-256."},
    "incomplete": {
        "fr": "Mois en cours : chiffres arrêtés au {until}.",
        "en": "Month in progress: figures as of {until}."},
    "section.totals": {"fr": "Synthèse", "en": "Summary"},
    "section.requirements": {
        "fr": "Exigences dont ce rapport est la preuve",
        "en": "Requirements this report evidences"},
    "section.annex": {"fr": "Annexe — rapports signés cités", "en": "Annex — signed reports cited"},
    "section.verify": {"fr": "Comment vérifier ce rapport", "en": "How to verify this report"},
    "sites": {"fr": "Sites", "en": "Sites"},
    "drills": {"fr": "Exercices dans la période", "en": "Drills in the period"},
    "success_rate": {
        "fr": "Taux de réussite (réussis / réussis + échoués)",
        "en": "Success rate (passed / passed + failed)"},
    "passed_failed": {"fr": "Réussis / échoués", "en": "Passed / failed"},
    "errors": {
        "fr": "Erreurs de notre infrastructure (site non mis en cause)",
        "en": "Errors of our infrastructure (the site not blamed)"},
    "chosen": {
        "fr": "Exercices d'une sauvegarde choisie (hors routine)",
        "en": "Drills of a chosen backup (not routine)"},
    "unreadable": {"fr": "Rapports illisibles", "en": "Unreadable reports"},
    "unverified": {
        "fr": "Rapports dont la signature ne vérifie pas (écartés)",
        "en": "Reports whose signature does not verify (left out)"},
    "without_drill": {"fr": "Sites sans exercice de routine", "en": "Sites without a routine drill"},
    "red_at_end": {"fr": "Sites en rouge en fin de période", "en": "Sites red at the period's end"},
    "red_total": {"fr": "Durée totale en rouge", "en": "Total time red"},
    "rto": {"fr": "RTO mesuré : moyenne / max (objectif {target})", "en": "Measured RTO: mean / max (target {target})"},
    "rto_over": {"fr": "RTO au-delà de l'objectif", "en": "RTO over target"},
    "rpo": {"fr": "Âge max de la sauvegarde (RPO, objectif {target})", "en": "Max backup age (RPO, target {target})"},
    "rpo_over": {"fr": "RPO au-delà de l'objectif", "en": "RPO over target"},
    "restorable": {"fr": "Point restaurable le plus récent", "en": "Newest restorable point"},
    "restorable.value": {
        "fr": "{name}, prise le {taken} (exercice {drill})",
        "en": "{name}, taken at {taken} (drill {drill})"},
    "hosting": {"fr": "Hébergement (exercice {drill})", "en": "Hosting (drill {drill})"},
    "hosting.undeclared": {"fr": "non déclaré", "en": "not declared"},
    "hosting_findings": {"fr": "Exercices avec un constat d'hébergement", "en": "Drills with a hosting finding"},
    "of": {"fr": "{count} sur {total}", "en": "{count} of {total}"},
    "none": {"fr": "aucun", "en": "none"},
    "red_periods": {"fr": "Périodes en rouge", "en": "Red periods"},
    "red.from": {"fr": "Depuis", "en": "From"},
    "red.until": {"fr": "Jusqu'à", "en": "Until"},
    "red.duration": {"fr": "Durée", "en": "Duration"},
    "red.failed_drill": {"fr": "Exercice échoué", "en": "Failed drill"},
    "red.passed_drill": {"fr": "Exercice réussi", "en": "Passed drill"},
    "red.still": {"fr": "toujours en rouge", "en": "still red"},
    "red.before": {"fr": " (avant la période)", "en": " (before the period)"},
    "annex.site": {"fr": "Site", "en": "Site"},
    "annex.sequence": {"fr": "N°", "en": "No."},
    "annex.drill": {"fr": "Exercice", "en": "Drill"},
    "annex.sha256": {"fr": "SHA-256 du rapport", "en": "Report SHA-256"},
    "verify.figures": {
        "fr": "1. Les chiffres sont ceux du document signé {name} (SHA-256 {digest}), qui cite pour chaque site les "
              "fichiers de rapports, leurs identifiants d'exercice et leurs SHA-256 (docs/compliance-report.md).",
        "en": "1. The figures are those of the signed document {name} (SHA-256 {digest}), which lists for each site "
              "the report files, their drill ids and their SHA-256 (docs/compliance-report.md)."},
    "verify.openssl": {
        "fr": "2. Chaque fichier de ce rapport (JSON, PDF, HTML) a sa signature Ed25519 détachée FICHIER.sig : "
              "openssl pkeyutl -verify -pubin -inkey signing.pub -rawin -in FICHIER -sigfile FICHIER.sig doit "
              "répondre « Signature Verified Successfully » (clé publique : drill keys export-public).",
        "en": "2. Every file of this report (JSON, PDF, HTML) has its detached Ed25519 signature FILE.sig: openssl "
              "pkeyutl -verify -pubin -inkey signing.pub -rawin -in FILE -sigfile FILE.sig must answer \"Signature "
              "Verified Successfully\" (public key: drill keys export-public)."},
    "verify.unsigned": {
        "fr": "2. Cette copie vient du tableau de bord, qui ne détient pas la clé de signature : elle n'est pas "
              "signée. La version signée : drill report --tenant {tenant} --month {month}.",
        "en": "2. This copy comes from the dashboard, which holds no signing key: it is not signed. The signed "
              "version: drill report --tenant {tenant} --month {month}."},
    "verify.reports": {
        "fr": "3. Chaque rapport cité se vérifie de même (EVIDENCE/SITE/FICHIER et sa .sig), et la chaîne d'un site "
              "par drill verify-chain SITE.",
        "en": "3. Each report cited verifies the same way (EVIDENCE/SITE/FILE and its .sig), and a site's chain by "
              "drill verify-chain SITE."},
    "generated": {
        "fr": "Généré par Restore Drill {version} le {now}",
        "en": "Generated by Restore Drill {version} on {now}"},
}

REQUIREMENTS = (
    {"id": "iso27001-2022-a8.13",
     "name": {"fr": "ISO/IEC 27001:2022, annexe A, mesure 8.13 « Information backup »",
              "en": "ISO/IEC 27001:2022, Annex A, control 8.13 \"Information backup\""},
     "text": {"fr": "Citation (en anglais) : « Backup copies of information, software and systems shall be maintained "
                    "and regularly tested in accordance with the agreed topic-specific policy on backup. »",
              "en": "Quote: \"Backup copies of information, software and systems shall be maintained and regularly "
                    "tested in accordance with the agreed topic-specific policy on backup.\""}},
    {"id": "hds-2024",
     "name": {"fr": "Référentiel de certification HDS (arrêté du 26 avril 2024)",
              "en": "HDS certification framework (arrêté of 26 April 2024)"},
     "text": {"fr": "Citation de l'activité 6 d'hébergement (art. R. 1111-9 du code de la santé publique) : "
                    "« La sauvegarde des données de santé. » Paraphrase : le référentiel s'appuie sur un système "
                    "de management de la sécurité de l'information conforme à ISO/IEC 27001.",
              "en": "Quote of hosting activity 6 (art. R. 1111-9 of the French public health code): « La sauvegarde "
                    "des données de santé. » (the backup of health data). Paraphrase: the framework builds on an "
                    "information security management system conforming to ISO/IEC 27001."}},
    {"id": "cnil-guide-securite",
     "name": {"fr": "CNIL, Guide de la sécurité des données personnelles",
              "en": "CNIL, Guide de la sécurité des données personnelles (personal data security guide)"},
     "text": {"fr": "Paraphrase (pas une citation) : la CNIL recommande d'effectuer des sauvegardes régulières et "
                    "de tester régulièrement leur restauration.",
              "en": "Paraphrase (not a quote): the CNIL recommends taking regular backups and regularly testing "
                    "that they can be restored."}},
)


def text(lang: str, key: str, **values) -> str:
    return TEXT[key][lang].format(**values)


__all__ = ["LANGUAGES", "REQUIREMENTS", "text"]
