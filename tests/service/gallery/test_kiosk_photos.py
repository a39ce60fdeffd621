"""Which enrolment photos of a folder the kiosk camera took: `annotations.json` beside them, as trayscan synth writes."""

import json
from pathlib import Path

from trayscan.gallery.build import camera_of, kiosk_photos


def test_kiosk_photos_come_from_the_folder_listing(tmp_path: Path) -> None:
    assert kiosk_photos(tmp_path) == set()  # no listing: every photo is another camera's
    listing = {"images": [{"file_name": "enrol/A1/00.jpg", "source": "kiosk"},
                          {"file_name": "enrol/A1/01.jpg", "source": "phone"},
                          {"file_name": "enrol/B2/00.jpg"}]}
    (tmp_path / "annotations.json").write_text(json.dumps(listing))
    kiosk = kiosk_photos(tmp_path)
    assert kiosk == {"A1/00.jpg"}
    assert camera_of(tmp_path / "A1" / "00.jpg", kiosk) == "kiosk"
    assert camera_of(tmp_path / "A1" / "01.jpg", kiosk) == "other"
    assert camera_of(tmp_path / "B2" / "00.jpg", kiosk) == "other"
