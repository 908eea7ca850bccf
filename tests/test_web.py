"""The browser page of `lpr serve` in a real headless Chromium: sign-in, the live reads list, search and paging, a read's page, the hotlist editor, camera status and "read a photo".

The server runs as a user starts it (tests/serving.py); reads are stored with real pictures cut
from a shipped scene. Screenshots are decoded and checked for what should be in them (a crop that
is not blank, a red row for a hotlist match, the green plate box inside the plate's place on the
canvas), never compared with stored images.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest
import serving

from lpr.records import CameraStatus, HotlistMatch
from lpr.store import open_store

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")

REPO = Path(__file__).resolve().parent.parent
SCENE = REPO / "datasets" / "samples" / "scenes" / "scene-02.jpg"
SCENE_PLATE = "BKK3953"
# The page draws plate boxes in #39ff14; a screenshot pixel counts as the box colour within this distance.
BOX_BGR = np.array([20, 255, 57])
WAIT_MS = 15_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One `lpr serve` for the module, on a fresh SQLite database."""
    folder = tmp_path_factory.mktemp("web")
    with serving.running_server(folder, f"sqlite:///{folder}/reads.db") as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def context(browser, server):
    """A fresh browser profile (empty localStorage) that records every request, to check nothing leaves the server."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(WAIT_MS)
    ctx.requested = []
    ctx.on("request", lambda request: ctx.requested.append(request.url))
    yield ctx
    outside = [url for url in ctx.requested if not (url.startswith(server.url + "/") or url.startswith(("blob:", "data:")))]
    ctx.close()
    assert outside == [], f"the page fetched from outside the server: {outside}"


@pytest.fixture
def page(context):
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    assert page.errors == [], f"JavaScript errors on the page: {page.errors}"


def sign_in(page, server, token: str, hash_: str = "") -> None:
    """Open the page (at hash_), answer the token form and wait until the view is shown."""
    page.goto(f"{server.url}/{hash_}")
    page.get_by_test_id("token-input").fill(token)
    page.get_by_test_id("token-submit").click()
    page.get_by_test_id("login").wait_for(state="hidden")
    page.get_by_test_id("signout").wait_for()


def row(page, read):
    return page.locator(f'[data-testid="read"][data-id="{read.id}"]')


def shot(locator, path: Path) -> np.ndarray:
    """A screenshot of one element, written to path and decoded as BGR."""
    locator.screenshot(path=str(path))
    image = cv2.imread(str(path))
    assert image is not None and image.size, f"the screenshot {path} did not decode"
    return image


def box_colour_mask(image: np.ndarray) -> np.ndarray:
    return np.abs(image.astype(np.int16) - BOX_BGR).max(axis=2) <= 60


def assert_box_drawn(page, canvas, box, path: Path) -> None:
    """The canvas (drawn at its image's size, shown scaled) has the box colour along the box's edges and hardly anywhere else."""
    canvas.wait_for()
    page.wait_for_function("c => c.dataset.drawn === 'true'", arg=canvas.element_handle())
    natural_width = canvas.evaluate("c => c.width")
    image = shot(canvas, path)
    scale = image.shape[1] / natural_width
    mask = box_colour_mask(image)
    x, y, w, h = (round(v * scale) for v in box)
    margin = max(4, round(6 * scale))
    ring = np.zeros_like(mask)
    ring[max(0, y - margin) : y + h + margin, max(0, x - margin) : x + w + margin] = True
    ring[y + margin : y + h - margin, x + margin : x + w - margin] = False
    on_edges = int(mask[ring].sum())
    assert on_edges >= (w + h), f"the box colour is on only {on_edges} pixels along the plate box {box} (scaled {scale:.2f}): no box drawn"
    # The label above the box is in the same colour; the rest of the picture is not.
    label_band = np.zeros_like(mask)
    label_band[max(0, y - round(80 * scale) - margin) : y + h + round(80 * scale) + margin, :] = True
    stray = int(mask[~label_band].sum())
    assert stray < 0.002 * mask.size, f"{stray} box-coloured pixels far from the plate box {box}"


# ---------------------------------------------------------------- 1. sign-in and the list


def test_page_asks_for_a_token_then_lists_reads_with_their_crops(page, server, tmp_path):
    read = serving.store_read(server, plate="BKK3953", camera="gate")
    hit = serving.store_read(server, plate="HIT7321", camera="gate", match=HotlistMatch("HIT7321", "stolen", "blue van, call dispatch", "exact", 0, "HIT7321"))

    page.goto(server.url + "/")
    login = page.get_by_test_id("login")
    login.wait_for()
    assert page.get_by_test_id("token-input").is_visible()
    assert page.locator('[data-testid="read"]').count() == 0, "reads are shown before a token is given"

    page.get_by_test_id("token-input").fill(server.admin_token)
    page.get_by_test_id("token-submit").click()
    row(page, read).wait_for()
    assert login.is_hidden()
    assert page.get_by_test_id("role").text_content() == "admin"
    assert page.evaluate("() => localStorage.getItem('lpr.token')") == server.admin_token

    # Newest first, with plate, confidence as a percentage, camera and a local time.
    ids = page.locator('[data-testid="read"]').evaluate_all("rows => rows.map(r => r.dataset.id)")
    assert ids.index(hit.id) < ids.index(read.id)
    listed = row(page, read)
    assert listed.locator(".plate").text_content() == "BKK3953"
    assert re.fullmatch(r"\d{1,3}\.\d%", listed.locator(".conf").text_content())
    assert listed.locator(".camera").text_content() == "gate"
    assert listed.locator("time").get_attribute("datetime")

    crop = listed.locator("img.crop")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=crop.element_handle())
    assert crop.get_attribute("src").startswith("blob:")
    pixels = shot(crop, tmp_path / "crop.png")
    assert pixels.std() > 15, "the crop thumbnail is blank"

    # The hotlist match is highlighted red and names its list.
    matched = row(page, hit)
    assert "hit-exact" in matched.get_attribute("class")
    assert "stolen" in matched.get_by_test_id("match").text_content()
    band = shot(matched.locator("td.camera"), tmp_path / "hit-row.png").reshape(-1, 3).mean(axis=0)
    assert band[2] > band[1] + 8 and band[2] > band[0] + 8, f"the matched row is not red-tinted (mean BGR {band})"

    # The token is kept: a reload goes straight to the list.
    page.reload()
    row(page, read).wait_for()
    assert login.is_hidden()

    # A token the server refuses (401) brings the form back, saying so.
    page.evaluate("() => localStorage.setItem('lpr.token', 'not-a-token')")
    page.reload()
    login.wait_for()
    assert page.get_by_test_id("login-error").is_visible()
    assert page.locator('[data-testid="read"]').count() == 0


# ---------------------------------------------------------------- 2. live


def test_a_read_stored_while_the_page_is_open_appears_without_a_reload(page, server):
    sign_in(page, server, server.admin_token)
    page.wait_for_selector("#live-status.on")
    page.evaluate("() => { window.notReloaded = true; }")

    fresh = serving.store_read(server, plate="LIV4271", camera="dock")
    row(page, fresh).wait_for()
    assert page.locator('[data-testid="read"]').first.get_attribute("data-id") == fresh.id
    assert row(page, fresh).locator(".plate").text_content() == "LIV4271"
    assert page.evaluate("() => window.notReloaded") is True
    page.wait_for_function("img => img && img.naturalWidth > 0", arg=row(page, fresh).locator("img.crop").element_handle())

    # With a filter the new read leaves out, it is counted instead of listed.
    page.get_by_test_id("filter-plate").fill("LIV4271")
    page.get_by_test_id("search").click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=read]').length === 1")
    other = serving.store_read(server, plate="OTH5512", camera="dock")
    page.get_by_test_id("new-hint").wait_for()
    assert "1 new read" in page.get_by_test_id("new-hint").text_content()
    assert row(page, other).count() == 0


# ---------------------------------------------------------------- 3. search


def search(page, plate: str = "", near: bool = False, camera: str = "", since: str = "") -> list[str]:
    """Fill the filter form, search, and return the listed plates once the list has been replaced."""
    page.get_by_test_id("filter-plate").fill(plate)
    page.get_by_test_id("filter-near").set_checked(near)
    page.get_by_test_id("filter-camera").fill(camera)
    page.get_by_test_id("filter-since").fill(since)
    with page.expect_response(lambda response: "/v1/reads?" in response.url):
        page.get_by_test_id("search").click()
    page.wait_for_function("() => document.querySelector('#reads-status').textContent !== 'Loading…'")
    return page.locator('[data-testid="read"] .plate').all_text_contents()


def test_search_by_exact_and_near_plate_camera_and_time(page, server):
    wanted = serving.store_read(server, plate="QWE4821", camera="dock")
    serving.store_read(server, plate="QWE4821", camera="gate")
    sign_in(page, server, server.read_token)
    row(page, wanted).wait_for()

    assert search(page, "QWE4821") == ["QWE4821", "QWE4821"]
    assert search(page, "qwe-4827", near=True) == ["QWE4821", "QWE4821"]
    assert search(page, "QWE4827") == [], "an exact search found a plate one character off"
    assert search(page, "ZZZ9999") == []
    assert page.get_by_test_id("reads-empty").is_visible()
    assert search(page, "ZZZ9999", near=True) == []

    assert search(page, "QWE4821", camera="dock") == ["QWE4821"]
    assert row(page, wanted).count() == 1
    assert search(page, camera="nowhere") == []

    tomorrow = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    yesterday = (datetime.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert search(page, "QWE4821", since=tomorrow) == []
    assert search(page, "QWE4821", since=yesterday) == ["QWE4821", "QWE4821"]

    page.get_by_test_id("clear").click()
    row(page, wanted).wait_for()
    assert page.get_by_test_id("filter-plate").input_value() == ""


# ---------------------------------------------------------------- 4. a read's page


def test_a_reads_page_shows_the_frame_with_the_box_and_the_candidates(page, server, tmp_path):
    read = serving.store_read(server, plate="BKK3953", camera="gate")
    sign_in(page, server, server.admin_token)
    row(page, read).locator(".plate").click()
    page.wait_for_url(re.compile(rf"#/read/{read.id}$"))

    assert page.get_by_test_id("read-plate").text_content() == "BKK3953"
    assert page.get_by_test_id("detail-camera").text_content() == "gate"
    assert page.get_by_test_id("detail-id").text_content() == read.id
    assert_box_drawn(page, page.get_by_test_id("frame"), read.box.to_list(), tmp_path / "frame.png")

    candidates = page.get_by_test_id("candidate")
    assert candidates.count() == len(read.candidates) > 0
    assert candidates.locator(".plate").all_text_contents() == [c.plate for c in read.candidates]
    assert all(re.fullmatch(r"\d{1,3}\.\d%", text) for text in candidates.locator(".conf").all_text_contents())

    page.goto(f"{server.url}/#/read/{'0' * 32}")
    assert "No read" in page.get_by_test_id("read-error").text_content()


# ---------------------------------------------------------------- 5. hotlist editor


def test_the_hotlist_editor_adds_imports_and_deletes_and_a_read_only_token_cannot(browser, context, page, server):
    sign_in(page, server, server.admin_token, "#/hotlist")
    page.get_by_test_id("add-plate").fill("hot-4821")
    page.get_by_test_id("add-list").fill("stolen")
    page.get_by_test_id("add-note").fill("<b>blue</b> van")
    page.get_by_test_id("add-submit").click()
    added = page.locator('[data-testid="hotlist-entry"][data-plate="HOT4821"]')
    added.wait_for()
    assert added.locator(".list").text_content() == "stolen"
    assert added.locator(".note").text_content() == "<b>blue</b> van", "a note was not shown as text"

    page.get_by_test_id("import-file").set_input_files(
        files=[{"name": "watch.csv", "mimeType": "text/csv", "buffer": b"plate,list,note\nIMP1001,watch,first\nIMP1002,watch,\n!!,watch,bad\n"}]
    )
    page.get_by_test_id("import-submit").click()
    assert "Imported 2" in page.get_by_test_id("import-count").text_content()
    assert page.get_by_test_id("import-skipped").locator("li").count() == 1
    page.locator('[data-testid="hotlist-entry"][data-plate="IMP1002"]').wait_for()

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator('[data-testid="hotlist-entry"][data-plate="IMP1001"]').get_by_test_id("hotlist-delete").click()
    page.locator('[data-testid="hotlist-entry"][data-plate="IMP1001"]').wait_for(state="detached")

    # A read-only token, in a profile of its own (tabs of one profile share the token).
    reader_context = browser.new_context(viewport={"width": 1280, "height": 800})
    reader_context.set_default_timeout(WAIT_MS)
    reader = reader_context.new_page()
    sign_in(reader, server, server.read_token, "#/hotlist")
    reader.locator('[data-testid="hotlist-entry"][data-plate="HOT4821"]').wait_for()
    assert reader.get_by_test_id("role").text_content() == "read-only"
    assert reader.get_by_test_id("readonly-note").is_visible()
    for control in ("hotlist-add", "add-submit", "import-file", "import-submit", "hotlist-delete"):
        assert reader.get_by_test_id(control).count() == 0, f"{control} is offered to a read-only token"
    reader_context.close()


# ---------------------------------------------------------------- 6. read a photo


def test_read_a_photo_draws_the_plates_on_the_uploaded_image(context, page, server, tmp_path):
    sign_in(page, server, server.read_token, "#/photo")
    with page.expect_response(lambda response: response.url.endswith("/v1/recognize")) as answer:
        page.get_by_test_id("photo-file").set_input_files(str(SCENE))
    result = answer.value.json()
    assert answer.value.status == 200, result
    assert [p["plate"] for p in result["plates"]][:1] == [SCENE_PLATE]

    plate = page.get_by_test_id("photo-plate").first
    plate.wait_for()
    assert plate.locator(".heading .plate").text_content() == SCENE_PLATE
    assert plate.get_by_test_id("candidate").count() == len(result["plates"][0]["candidates"])
    assert_box_drawn(page, page.get_by_test_id("photo-canvas"), result["plates"][0]["box"], tmp_path / "photo.png")
    # The picture on the canvas is the local file, not fetched back from the server.
    assert page.get_by_test_id("photo-canvas").evaluate("c => [c.width, c.height]") == [1280, 720]
    assert not any("scene-02" in url for url in context.requested)


# ---------------------------------------------------------------- paging and camera status


def test_more_pages_through_older_reads(page, server):
    sign_in(page, server, server.read_token)
    page.wait_for_selector("#live-status.on")
    # Stored while the page is open, so they also arrive live: each goes where it sorts, or waits for "more".
    older = [serving.store_read(server, plate=f"PAG{n:04d}", camera="lot", first_seen=datetime.now(timezone.utc) - timedelta(minutes=n)) for n in range(1, 53)]
    assert len(search(page, camera="lot")) == 50
    more = page.get_by_test_id("more")
    assert more.is_visible()
    more.click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=read]').length === 52")
    page.wait_for_timeout(1500)  # any live copies still on their way
    listed = page.locator('[data-testid="read"] .plate').all_text_contents()
    assert listed == [read.plate for read in older], "pages are not newest first without gaps or repeats"
    assert more.is_hidden()


def test_the_cameras_page_shows_each_cameras_status(page, server):
    now = datetime.now(timezone.utc)
    with open_store(server.db_url) as store:
        store.put_camera_status(CameraStatus("gate", "rtsp://10.0.0.5/gate", True, 9.8, 1234, 3, 0, None, now, now))
        old = now - timedelta(minutes=10)
        store.put_camera_status(CameraStatus("<b>dock</b>", "rtsp://10.0.0.6/dock", False, None, 10, 0, 4, "connection refused", None, old))
    sign_in(page, server, server.read_token, "#/cameras")
    gate = page.locator('[data-testid="camera"][data-camera="gate"]')
    gate.wait_for()
    assert gate.locator(".badge").text_content() == "connected"
    assert gate.locator("td.num").first.text_content() == "9.8"
    dock = page.locator('[data-testid="camera"][data-camera="<b>dock</b>"]')
    assert dock.locator("td.camera").text_content() == "<b>dock</b>", "a camera name was not shown as text"
    assert dock.locator(".badge").text_content() == "stale"
    assert "connection refused" in dock.text_content()
