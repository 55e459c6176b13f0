"""The generator in a real browser: the page `write_web_page` makes, served on 127.0.0.1, in headless chromium.

Chromium and chromedriver come from Debian (`make test` installs them), onnxruntime-web from
web/package-lock.json (`npm ci --prefix web`). Nothing here is skipped: without a browser the tests fail.
Set GAN_MODELS_SCREENSHOT=docs/web-page.png to refresh the README's screenshot.
"""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from gan_models.data import to_uint8
from gan_models.export import export_onnx
from gan_models.export.web import PAGE_MARKER, write_web_page
from gan_models.noise import interpolate_latents, sample_noise
from gan_models.sources import from_hub
from tests.export.conditional_standin import trained_standin

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=760,1000")
PAGE_TIMEOUT_S = 60

pytestmark = pytest.mark.slow  # a real browser and a real server; CI runs them


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Debian chromium driven through chromedriver, with a fresh profile."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.is_file():
            pytest.fail(f"{path} is missing: `make test` installs Debian's chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    yield driver
    driver.quit()


def serve(folder: Path) -> tuple[subprocess.Popen, str]:
    """`python -m http.server` on a free port of 127.0.0.1, serving `folder`; returns the process and its URL."""
    command = [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "-d", str(folder)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = re.search(r"port (\d+)", server.stdout.readline()).group(1)
    return server, f"http://127.0.0.1:{port}/"


def open_page(browser, folder: Path, query: str = "") -> str:
    """Load the page served from `folder` and wait until it has drawn or shown an error; returns that state."""
    server, url = serve(folder)
    try:
        browser.get(url + query)
        deadline = time.monotonic() + PAGE_TIMEOUT_S
        while (state := page_state(browser)) not in ("ready", "error"):
            assert time.monotonic() < deadline, f"the page is still {state!r} after {PAGE_TIMEOUT_S} s"
            time.sleep(0.1)
        return state
    finally:
        server.terminate()
        server.wait()


def page_state(browser) -> str:
    """The page's progress, from its body's data-state: loading, running, ready or error."""
    return browser.find_element(By.TAG_NAME, "body").get_attribute("data-state")


def canvas_pixels(browser, canvas_id: str) -> np.ndarray:
    """The RGB pixels (H, W, 3) uint8 the page drew into a canvas."""
    width, height, data = browser.execute_script(
        f"const c = document.getElementById('{canvas_id}');"
        "return [c.width, c.height, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)];")
    return np.asarray(data, dtype=np.uint8).reshape(height, width, 4)[..., :3]


def tile(images: torch.Tensor, columns: int = 8) -> np.ndarray:
    """uint8 images (N, C, H, W) -> the page's layout (rows * H, columns * W, 3), grey repeated over RGB."""
    n, channels, height, width = images.shape
    rows = -(-n // columns)
    grid = np.zeros((rows * height, columns * width, 3), dtype=np.uint8)
    for k, image in enumerate(images.numpy()):
        top, left = (k // columns) * height, (k % columns) * width
        grid[top:top + height, left:left + width] = np.moveaxis(image, 0, -1) if channels == 3 else image[0, ..., None]
    return grid


def make_site(generator, folder: Path, z: torch.Tensor, labels: torch.Tensor | None = None, **export_kwargs) -> Path:
    """Export `generator`, write its page into `folder`, and put the fixed latents beside it as latents.json."""
    write_web_page(export_onnx(generator, folder.parent / f"{folder.name}.onnx", **export_kwargs), folder)
    given = {"z": z.tolist(), **({} if labels is None else {"labels": labels.tolist()})}
    (folder / "latents.json").write_text(json.dumps(given))
    return folder


def wait_ready(browser, what: str) -> None:
    """Wait until the page, set running by an action, is ready again; fail saying `what` did not happen."""
    deadline = time.monotonic() + PAGE_TIMEOUT_S
    while page_state(browser) != "ready":
        assert page_state(browser) != "error", browser.find_element(By.ID, "error").text
        assert time.monotonic() < deadline, f"the page did not {what}"
        time.sleep(0.1)


def set_value(browser, element_id: str, value) -> None:
    """Set an input's value (or a checkbox's checked) as a user would, firing its input and change events."""
    browser.execute_script(
        "const e = document.getElementById(arguments[0]);"
        "if (e.type === 'checkbox') e.checked = arguments[1]; else e.value = arguments[1];"
        "e.dispatchEvent(new Event('input')); e.dispatchEvent(new Event('change'));", element_id, value)


def page_latents(browser) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The latents (N, nz) float32 and labels (N,) int64 (None without classes) the page drew its grid from."""
    given = browser.execute_script("return window.gridLatents;")
    n = len(given["labels"]) if given["labels"] else 64
    labels = None if given["labels"] is None else torch.tensor(given["labels"], dtype=torch.int64)
    return torch.tensor(given["z"], dtype=torch.float32).view(n, -1), labels


def most_distant_pair(images: torch.Tensor) -> tuple[int, int]:
    """The pair of the first 8 images (N, C, H, W) in [-1, 1] with the largest squared difference, as the page picks."""
    flat = images[:8].flatten(1).double()
    distances = torch.cdist(flat, flat).triu(diagonal=1)
    index = int(distances.argmax())
    return divmod(index, 8)


def test_the_page_draws_what_pytorch_draws_for_the_same_latents(browser, tmp_path):
    source = from_hub("dcgan", pretrained=True, dataset="fashion-mnist")
    generator = source.generator
    z = sample_noise(64, generator.nz, generator.noise, generator=torch.Generator().manual_seed(0))
    site = make_site(generator, tmp_path / "site", z, **source.export_kwargs())
    assert open_page(browser, site, "?latents=latents.json") == "ready"
    with torch.no_grad():
        images = generator(z)
    expected = tile(to_uint8(images))
    drawn = canvas_pixels(browser, "grid")
    assert drawn.shape == expected.shape == (224, 224, 3)
    difference = np.abs(drawn.astype(int) - expected.astype(int))
    print(f"\npage vs PyTorch, 64 Fashion-MNIST DCGAN images: max |diff| {difference.max()} grey levels, "
          f"{np.count_nonzero(difference)} of {difference.size} values differ")
    assert difference.max() <= 1
    # The walk runs between the two most different samples of the first row, along the great circle (slerp).
    a, b = most_distant_pair(images)
    with torch.no_grad():
        frames = generator(interpolate_latents(z[a:a + 1], z[b:b + 1], 8, generator.noise)[0])
    assert browser.find_element(By.ID, "walk-title").text == \
        f"latent walk from sample {a + 1} to sample {b + 1} (slerp)"
    walk = canvas_pixels(browser, "walk")
    assert walk.shape == (28, 224, 3)
    assert np.abs(walk.astype(int) - tile(to_uint8(frames))).max() <= 1
    assert np.abs(walk[:, :28].astype(int) - expected[:28, 28 * a:28 * a + 28]).max() <= 1
    assert (images[a] - images[b]).abs().mean() > 0.3, "the endpoints must differ, not be two near-copies"


@pytest.mark.parametrize(("name", "bound_per_psi"), [("dcgan", 1.0), ("lsgan", 3 ** -0.5)])
def test_the_truncation_slider_redraws_beyond_psi_like_sample_noise(browser, tmp_path, name, bound_per_psi):
    generator = from_hub(name, pretrained=True, dataset="fashion-mnist").generator
    site = make_site(generator, tmp_path / "site", torch.zeros(2, generator.nz), model=name, dataset="fashion-mnist")
    assert open_page(browser, site) == "ready"
    assert browser.find_element(By.ID, "psi-value").text == "off"
    untruncated, _ = page_latents(browser)
    set_value(browser, "truncate", True)
    set_value(browser, "psi", "0.5")
    wait_ready(browser, "draw truncated samples")
    assert browser.find_element(By.ID, "psi-value").text == "psi 0.5"
    z, _ = page_latents(browser)
    bound = 0.5 * bound_per_psi
    inside = untruncated.abs() <= bound
    assert z.abs().max() <= bound and 0.1 < inside.float().mean() < 0.9
    assert torch.equal(z[inside], untruncated[inside]), "components within the bound keep their values"
    assert (z[~inside] != untruncated[~inside]).all(), "the others are drawn again"
    with torch.no_grad():
        expected = tile(to_uint8(generator(z)))
    assert np.abs(canvas_pixels(browser, "grid").astype(int) - expected).max() <= 1


def test_the_seed_draws_its_grid_and_random_seed_picks_another(browser, tmp_path):
    generator = from_hub("dcgan", pretrained=True, dataset="fashion-mnist").generator
    site = make_site(generator, tmp_path / "site", torch.zeros(2, generator.nz), model="dcgan", dataset="fashion-mnist")
    assert open_page(browser, site) == "ready"
    set_value(browser, "seed", "41")
    wait_ready(browser, "draw seed 41")
    seed_41 = canvas_pixels(browser, "grid")
    assert seed_41.shape == (224, 224, 3) and seed_41.std() > 20  # 64 drawn images, not a blank canvas
    browser.find_element(By.ID, "random-seed").click()  # runs the loaded model again: no server needed
    wait_ready(browser, "draw a random seed")
    seed = browser.find_element(By.ID, "seed").get_attribute("value")
    assert seed != "41" and 0 <= int(seed) < 10 ** 6
    assert np.abs(canvas_pixels(browser, "grid").astype(int) - seed_41).mean() > 10
    set_value(browser, "seed", "41")  # typing the seed again draws the same grid
    wait_ready(browser, "draw seed 41 again")
    assert np.array_equal(canvas_pixels(browser, "grid"), seed_41)


def test_clicking_two_samples_walks_between_them_and_the_walk_plays(browser, tmp_path):
    generator = from_hub("dcgan", pretrained=True, dataset="fashion-mnist").generator
    site = make_site(generator, tmp_path / "site", torch.zeros(2, generator.nz), model="dcgan", dataset="fashion-mnist")
    assert open_page(browser, site) == "ready"
    grid = browser.find_element(By.ID, "grid")
    for k in (10, 45):  # grid is 448 css px wide: 56 px per sample
        ActionChains(browser).move_to_element_with_offset(grid, -224 + 56 * (k % 8) + 28,
                                                          -224 + 56 * (k // 8) + 28).click().perform()
    wait_ready(browser, "walk between the clicked samples")
    assert browser.find_element(By.ID, "walk-title").text == "latent walk from sample 11 to sample 46 (slerp)"
    z, _ = page_latents(browser)
    with torch.no_grad():
        frames = tile(to_uint8(generator(interpolate_latents(z[10:11], z[45:46], 8, generator.noise)[0])))
    walk = canvas_pixels(browser, "walk")
    assert np.abs(walk.astype(int) - frames).max() <= 1
    shown = {}  # the animation: frame index -> the pixels #walk-frame shows
    deadline = time.monotonic() + 10
    while len(shown) < 8 and time.monotonic() < deadline:
        frame = int(browser.find_element(By.ID, "walk-frame").get_attribute("data-frame"))
        pixels = canvas_pixels(browser, "walk-frame")
        if frame == int(browser.find_element(By.ID, "walk-frame").get_attribute("data-frame")):
            shown[frame] = pixels
        time.sleep(0.05)
    assert sorted(shown) == list(range(8)), "the walk plays all its frames"
    for frame, pixels in shown.items():
        assert np.array_equal(pixels, walk[:, 28 * frame:28 * frame + 28])


def test_download_png_saves_the_grid_as_drawn(browser, tmp_path):
    generator = from_hub("dcgan", pretrained=True, dataset="fashion-mnist").generator
    site = make_site(generator, tmp_path / "site", torch.zeros(2, generator.nz), model="dcgan", dataset="fashion-mnist")
    assert open_page(browser, site) == "ready"
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    browser.find_element(By.ID, "download").click()
    saved = downloads / "dcgan-fashion-mnist-seed0.png"
    deadline = time.monotonic() + PAGE_TIMEOUT_S
    while not saved.is_file():
        assert time.monotonic() < deadline, f"no download: {sorted(p.name for p in downloads.iterdir())}"
        time.sleep(0.1)
    z, _ = page_latents(browser)
    with torch.no_grad():
        expected = tile(to_uint8(generator(z)))
    png = np.asarray(Image.open(saved).convert("RGB"))
    assert png.shape == (224, 224, 3) and np.array_equal(png, canvas_pixels(browser, "grid"))
    assert np.abs(png.astype(int) - expected).max() <= 1


def test_conditional_page_shows_every_class_on_a_labelled_row(browser, tmp_path):
    source = from_hub("dcgan", pretrained=True, dataset="fashion-mnist", conditional=True)
    generator = source.generator
    site = make_site(generator, tmp_path / "site", torch.zeros(2, generator.nz), **source.export_kwargs())
    browser.set_window_size(900, 1250)  # room for ten rows and the walk in the screenshot
    try:
        assert open_page(browser, site) == "ready"
        options = [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#class option")]
        assert options == ["one class per row", *generator.classes]
        rows = [label.text for label in browser.find_elements(By.CSS_SELECTOR, "#row-labels span")]
        assert rows == list(generator.classes) and rows[-2:] == ["Bag", "Ankle boot"]
        z, labels = page_latents(browser)
        assert labels.tolist() == [k // 8 for k in range(80)]
        with torch.no_grad():
            expected = tile(to_uint8(generator(z, labels)))
        drawn = canvas_pixels(browser, "grid")
        assert drawn.shape == (280, 224, 3) and np.abs(drawn.astype(int) - expected).max() <= 1
        set_value(browser, "truncate", True)
        set_value(browser, "psi", "0.7")
        wait_ready(browser, "draw truncated samples")
        time.sleep(0.4)  # let the walk's animation show a middle frame
        screenshot = os.environ.get("GAN_MODELS_SCREENSHOT")
        browser.save_screenshot(screenshot or str(tmp_path / "page.png"))
        set_value(browser, "class", "8")  # one picked class: 8 x 8 Bags
        wait_ready(browser, "draw one class")
        _, labels = page_latents(browser)
        assert labels.tolist() == [8] * 64
        assert [label.text for label in browser.find_elements(By.CSS_SELECTOR, "#row-labels span")] == ["Bag"] * 8
    finally:
        browser.set_window_size(760, 1000)


def test_conditional_page_feeds_labels_and_refuses_a_label_out_of_range(browser, tmp_path):
    generator = trained_standin()
    z = torch.randn(8, generator.nz, generator=torch.Generator().manual_seed(1))
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    site = make_site(generator, tmp_path / "site", z, labels)
    assert json.loads((site / "model.json").read_text())["invalid_labels"] == "nan"
    assert open_page(browser, site, "?latents=latents.json") == "ready"
    with torch.no_grad():
        expected = tile(to_uint8(generator(z, labels)))
    assert np.abs(canvas_pixels(browser, "grid").astype(int) - expected).max() <= 1
    options = [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#class option")]
    assert options == ["one class per row", "class, 0", "class, 1", "class, 2"]
    # Labels -1 and 3 are no class: onnxruntime-web's Gather would wrap -1 to class 2; the graph draws NaN instead,
    # and the page says so rather than showing another class.
    (site / "bad.json").write_text(json.dumps({"z": z[:4].tolist(), "labels": [0, -1, 3, 1]}))
    assert open_page(browser, site, "?latents=bad.json") == "error"
    assert browser.find_element(By.ID, "error").text == (
        "Error: label -1, 3 of image 2, 3 is not a class of this model (0 to 2): it drew no image (nan images)")
    assert not browser.find_element(By.ID, "grid").is_displayed()


def test_a_broken_model_file_shows_an_error_not_a_blank_canvas(browser, tmp_path):
    generator = from_hub("fcgan").generator
    site = make_site(generator, tmp_path / "site", torch.zeros(2, generator.nz))
    (site / "model.onnx").write_bytes(b"this is not an ONNX model\n")
    assert open_page(browser, site) == "error"
    error = browser.find_element(By.ID, "error")
    assert error.is_displayed() and error.text.startswith("Error: onnxruntime-web cannot load model.onnx")
    assert not browser.find_element(By.ID, "grid").is_displayed()


def test_the_page_works_offline_from_its_folder(tmp_path):
    generator = from_hub("fcgan").generator
    site = make_site(generator, tmp_path / "site", torch.zeros(2, generator.nz))
    text = "\n".join((site / name).read_text() for name in ("index.html", "app.js"))
    assert not re.search(r"https?://", text), "the page must not fetch anything from the network"
    assert sorted(p.name for p in site.iterdir()) == sorted([
        "index.html", "app.js", "model.onnx", "model.json", "latents.json", "ort.wasm.min.js",
        "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm", PAGE_MARKER])
