"""A corpus that is a time series: three releases of one programme reporting one figure as it grows
(2019, 2022, 2025), one release without a date, and the Ségou release copied by another site under
its own navigation. Written into a folder beside the seeds."""
from __future__ import annotations

import shutil
from pathlib import Path

from conftest import SEED_CORPUS, SEGOU

SERIES = {
    "oim-mopti-2019-03-14-abris.txt": """Mopti : l'OIM distribue des abris aux ménages déplacés
Mopti, le 14 mars 2019 – L'Organisation internationale pour les migrations (OIM) poursuit son appui aux ménages déplacés internes de la région de Mopti, chassés de leurs villages par les violences intercommunautaires.
Depuis le lancement du programme d'abris d'urgence, 2 400 kits d'abris ont été distribués aux ménages déplacés de la région de Mopti.
Chaque kit comprend des bâches, des cordes, des nattes et des ustensiles de cuisine ; les familles les plus vulnérables, dont celles dirigées par des femmes, sont servies en premier.
« Ces abris permettent aux familles de se protéger avant la saison des pluies », a déclaré la coordinatrice du programme, Aminata Traoré.
""",
    "oim-mopti-2022-06-09-abris.txt": """Mopti : trois ans d'abris d'urgence pour les déplacés
Mopti, le 9 juin 2022 – Trois ans après son lancement, le programme d'abris d'urgence de l'OIM reste la première réponse aux déplacements dans le centre du Mali.
Depuis le lancement du programme d'abris d'urgence, 7 800 kits d'abris ont été distribués aux ménages déplacés de la région de Mopti.
Le programme, financé par la Direction générale de la protection civile et des opérations d'aide humanitaire européennes (ECHO), couvre désormais les cercles de Bandiagara, Bankass et Douentza.
Des comités de gestion des sites de déplacés ont été formés pour recenser les nouveaux arrivants.
""",
    "oim-mopti-2025-02-20-abris.txt": """Mopti : le programme d'abris d'urgence étendu à Ségou
Mopti, le 20 février 2025 – L'OIM étend à la région de Ségou le programme d'abris d'urgence mené depuis six ans dans la région de Mopti.
Depuis le lancement du programme d'abris d'urgence, 12 600 kits d'abris ont été distribués aux ménages déplacés de la région de Mopti.
L'extension à Ségou prévoit la distribution de 3 000 kits supplémentaires d'ici la fin de l'année, avec l'appui des services techniques de l'État.
Les ménages bénéficiaires participent au montage des abris, ce qui réduit les délais d'installation.
""",
    "oim-mopti-bilan-abris.txt": """Bilan du programme d'abris d'urgence à Mopti
Le programme d'abris d'urgence de l'OIM dans la région de Mopti a fait l'objet d'un bilan avec les autorités régionales et les partenaires humanitaires.
Selon ce bilan, 5 100 kits d'abris ont été distribués aux ménages déplacés de la région de Mopti depuis le lancement du programme d'abris d'urgence.
Les participants ont recommandé de renforcer la coordination avec les autres acteurs humanitaires.
""",
}

NAVIGATION = """Accueil
Actualités
Société
Politique
Économie
Sport
Maliweb.info, l'actualité du Mali en continu, depuis 2004, avec plus de 60 journalistes partenaires.
"""
FOOTER = """
Partager sur Facebook
Partager sur X
Maliweb.info © 2025 – Tous droits réservés. Toute reproduction interdite sans l'accord de la rédaction.
"""
SEGOU_COPY = "maliweb-journee-des-migrants-segou.txt"


def write_series(folder: Path, copy: bool = True) -> Path:
    """The seeds, the three dated releases and the undated one, and (with `copy`) the Ségou copy."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in SEED_CORPUS.glob("*.txt"):
        shutil.copy(path, folder / path.name)
    for name, text in SERIES.items():
        (folder / name).write_text(text, encoding="utf-8")
    if copy:
        body = (SEED_CORPUS / SEGOU).read_text(encoding="utf-8")
        (folder / SEGOU_COPY).write_text(NAVIGATION + body + FOOTER, encoding="utf-8")
    return folder
