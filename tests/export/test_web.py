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
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from gan_models.data import to_uint8
from gan_models.export import export_onnx
from gan_models.export.web import PAGE_MARKER, write_web_page
from gan_models.noise import sample_noise
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


def test_the_page_draws_what_pytorch_draws_for_the_same_latents(browser, tmp_path):
    source = from_hub("dcgan", pretrained=True, dataset="fashion-mnist")
    generator = source.generator
    z = sample_noise(64, generator.nz, generator.noise, generator=torch.Generator().manual_seed(0))
    site = make_site(generator, tmp_path / "site", z, **source.export_kwargs())
    assert open_page(browser, site, "?latents=latents.json") == "ready"
    with torch.no_grad():
        expected = tile(to_uint8(generator(z)))
    drawn = canvas_pixels(browser, "grid")
    assert drawn.shape == expected.shape == (224, 224, 3)
    difference = np.abs(drawn.astype(int) - expected.astype(int))
    print(f"\npage vs PyTorch, 64 Fashion-MNIST DCGAN images: max |diff| {difference.max()} grey levels, "
          f"{np.count_nonzero(difference)} of {difference.size} values differ")
    assert difference.max() <= 1
    # The latent walk starts at sample 1 and ends at sample 2 (spherical interpolation of normal noise).
    walk = canvas_pixels(browser, "walk")
    assert walk.shape == (28, 224, 3)
    assert np.abs(walk[:, :28].astype(int) - expected[:28, :28]).max() <= 1
    assert np.abs(walk[:, -28:].astype(int) - expected[:28, 28:56]).max() <= 1
    assert np.abs(walk[:, 28:56].astype(int) - expected[:28, :28]).max() > 8, "the walk's second frame must move"


def test_seeded_grid_and_new_samples_button(browser, tmp_path):
    generator = from_hub("dcgan", pretrained=True, dataset="fashion-mnist").generator
    site = make_site(generator, tmp_path / "site", torch.zeros(2, generator.nz), model="dcgan", dataset="fashion-mnist")
    assert open_page(browser, site) == "ready"
    first = canvas_pixels(browser, "grid")
    assert first.shape == (224, 224, 3) and first.std() > 20  # 64 drawn images, not a blank canvas
    screenshot = os.environ.get("GAN_MODELS_SCREENSHOT")
    browser.save_screenshot(screenshot or str(tmp_path / "page.png"))
    browser.find_element(By.ID, "new-samples").click()  # runs the loaded model again: no server needed
    deadline = time.monotonic() + PAGE_TIMEOUT_S
    while browser.find_element(By.ID, "seed").get_attribute("value") != "1" or \
            page_state(browser) != "ready":
        assert time.monotonic() < deadline, "the page did not draw new samples"
        time.sleep(0.1)
    assert np.abs(canvas_pixels(browser, "grid").astype(int) - first).mean() > 10


def test_conditional_page_feeds_labels_and_offers_the_classes(browser, tmp_path):
    generator = trained_standin()
    z = torch.randn(8, generator.nz, generator=torch.Generator().manual_seed(1))
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    site = make_site(generator, tmp_path / "site", z, labels)
    assert open_page(browser, site, "?latents=latents.json") == "ready"
    with torch.no_grad():
        expected = tile(to_uint8(generator(z, labels)))
    assert np.abs(canvas_pixels(browser, "grid").astype(int) - expected).max() <= 1
    options = [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#class option")]
    assert options == ["one class per row", "class, 0", "class, 1", "class, 2"]


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
