"""The demo page in a real browser: headless Chromium (Debian's chromium and
chromium-driver, driven by selenium) loads the page served by
upernet_mm.demo, picks an example, waits for the result and checks the
overlay, the opacity slider, the legend, the class under the pointer and
the refusal of a file that is not an image; it saves a screenshot.

Without Chromium or selenium the test skips, saying how to install them,
unless UPERNET_MM_REQUIRE_BROWSER=1 (set by .ci/run, which installs
Chromium). Set UPERNET_MM_DEMO_SCREENSHOT=FILE to keep the screenshot."""
import os
import shutil
import tempfile
import threading

import pytest

from helpers.tiny_checkpoint import write_tiny_checkpoint
from upernet_mm.datasets.synthetic_scenes_classes import CLASSES

INSTALL = ('install it with `apt-get install -y chromium chromium-driver` '
           '(Debian) and `pip install selenium` (requirements/optional.txt)')
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
DRIVER = shutil.which('chromedriver')
try:
    import selenium  # noqa: F401
    HAVE_SELENIUM = True
except ImportError:
    HAVE_SELENIUM = False

if CHROMIUM is None or DRIVER is None:
    MISSING = 'no Chromium and chromedriver: ' + INSTALL
elif not HAVE_SELENIUM:
    MISSING = 'selenium is not installed: ' + INSTALL
else:
    MISSING = None
# .ci/run installs the browser and sets this: there the test must run
REQUIRED = os.environ.get('UPERNET_MM_REQUIRE_BROWSER') == '1'


@pytest.fixture(scope='module', autouse=True)
def browser_available():
    if MISSING and REQUIRED:
        pytest.fail(MISSING + ' (UPERNET_MM_REQUIRE_BROWSER=1)')
    if MISSING:
        pytest.skip(MISSING)


# what works on a machine without a display, GPU or network
CHROMIUM_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu',
                  '--disable-quic', '--no-first-run',
                  '--disable-background-networking',
                  '--disable-component-update', '--disable-sync',
                  '--disable-dev-shm-usage', '--window-size=1400,1000')


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    from upernet_mm.apis import init_model
    from upernet_mm.demo import DemoApp, DemoServer, synthetic_scenes_examples
    config, checkpoint = write_tiny_checkpoint(
        tmp_path_factory.mktemp('browser'))
    model = init_model(config, checkpoint, device='cpu')
    app = DemoApp(model, 'tiny.py', synthetic_scenes_examples(3, size=64))
    srv = DemoServer(app, port=0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope='module')
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    os.environ.setdefault('SE_AVOID_STATS', 'true')
    profile = tempfile.mkdtemp(prefix='upernet_mm_chromium_')
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f'--user-data-dir={profile}')
    driver = webdriver.Chrome(
        service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(180)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def test_page_segments_an_example_in_chromium(server, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait
    wait = WebDriverWait(browser, 180)
    browser.get(server.url)
    wait.until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, '#examples img')) == 3)
    assert 'tiny.py' in browser.find_element(By.ID, 'model').text
    browser.find_elements(By.CSS_SELECTOR, '#examples img')[1].click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, 'body').get_attribute(
        'data-state') == 'done')
    assert browser.find_element(By.ID, 'result').is_displayed()
    image = browser.find_element(By.CSS_SELECTOR,
                                 '.view[data-level=image] canvas')
    assert image.is_displayed()
    assert 'synthetic_scenes_val_00001.png: 64x64 pixels' in \
        browser.find_element(By.ID, 'status').text

    # the overlay: a canvas of the image's size, painted in class colours
    overlay = browser.find_element(By.CSS_SELECTOR,
                                   '.view[data-level=object] canvas.overlay')
    assert overlay.is_displayed()
    assert (overlay.get_attribute('width'),
            overlay.get_attribute('height')) == ('64', '64')
    painted = browser.execute_script(
        'const c = arguments[0].getContext("2d").getImageData(0, 0, 64, 64)'
        '.data; let n = 0; for (let i = 3; i < c.length; i += 4) '
        'n += c[i] === 255; return n;', overlay)
    assert painted == 64 * 64

    # the legend: classes present with pixel shares summing to 100%
    rows = browser.find_elements(By.CSS_SELECTOR, 'table.legend tr')
    assert len(rows) >= 2
    names = [r.find_element(By.CSS_SELECTOR, '.name').text for r in rows]
    assert set(names) <= set(CLASSES)
    shares = [
        float(r.find_element(By.CSS_SELECTOR, '.share').text.strip('<%'))
        for r in rows
    ]
    assert shares == sorted(shares, reverse=True)
    assert sum(shares) == pytest.approx(100, abs=0.1 * len(rows))

    # the opacity slider sets the overlay's opacity
    slider = browser.find_element(By.ID, 'opacity')
    browser.execute_script(
        'arguments[0].value = "0.8"; arguments[0].dispatchEvent('
        'new Event("input"))', slider)
    assert overlay.value_of_css_property('opacity') == '0.8'
    assert browser.find_element(By.ID, 'opacity-value').text == '0.80'

    # the class under the pointer, and its legend row highlighted
    ActionChains(browser).move_to_element_with_offset(overlay, 5, 5).perform()
    pointer = browser.find_element(By.CSS_SELECTOR,
                                   '#pointer .level[data-level=object]').text
    assert pointer.startswith('object: ')
    assert pointer[len('object: '):] in names
    assert browser.find_elements(By.CSS_SELECTOR, 'table.legend tr.hover')

    # nothing was loaded from another origin
    origins = browser.execute_script(
        'return performance.getEntriesByType("resource").map(e => e.name)')
    assert origins and all(u.startswith(server.url) for u in origins), origins

    shot = tmp_path / 'demo.png'
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 0
    keep = os.environ.get('UPERNET_MM_DEMO_SCREENSHOT')
    if keep:
        shutil.copyfile(shot, keep)

    # a file that is not an image: refused with a message on the page
    text_file = tmp_path / 'notes.txt'
    text_file.write_text('not an image\n')
    browser.find_element(By.ID, 'file').send_keys(str(text_file))
    error = wait.until(ec.visibility_of_element_located((By.ID, 'error')))
    assert 'notes.txt is not an image the demo can read' in error.text

    # an image file of one's own, chosen with the file input (not square)
    from PIL import Image
    Image.new('RGB', (80, 48), (90, 140, 200)).save(tmp_path / 'wide.png')
    browser.find_element(By.ID, 'file').send_keys(str(tmp_path / 'wide.png'))
    wait.until(lambda d: d.find_element(By.ID, 'status').text.startswith(
        'wide.png: 80x48 pixels'))
    assert not browser.find_element(By.ID, 'error').is_displayed()
    overlay = browser.find_element(By.CSS_SELECTOR,
                                   '.view[data-level=object] canvas.overlay')
    assert (overlay.get_attribute('width'),
            overlay.get_attribute('height')) == ('80', '48')


def test_multi_task_page_shows_each_level_and_top5(tmp_path, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from helpers.tiny_checkpoint import write_tiny_upp_checkpoint
    from upernet_mm.apis import init_model
    from upernet_mm.demo import DemoApp, DemoServer, synthetic_scenes_examples
    model = init_model(*write_tiny_upp_checkpoint(tmp_path), device='cpu')
    app = DemoApp(model, 'tiny_upp.py', synthetic_scenes_examples(1, size=64))
    srv = DemoServer(app, port=0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        wait = WebDriverWait(browser, 180)
        browser.get(srv.url)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#examples img'))
        browser.execute_script('document.body.dataset.state = ""')
        browser.find_element(By.CSS_SELECTOR, '#examples img').click()
        wait.until(lambda d: d.find_element(By.TAG_NAME, 'body').get_attribute(
            'data-state') == 'done')
        for level in ('object', 'part', 'material'):
            view = browser.find_element(By.CSS_SELECTOR,
                                        f'.view[data-level={level}]')
            assert view.find_element(By.CSS_SELECTOR,
                                     'canvas.overlay').is_displayed()
            assert view.find_elements(By.CSS_SELECTOR, 'table.legend tr')
        for task in ('scene', 'texture'):
            items = browser.find_elements(By.CSS_SELECTOR,
                                          f'.score-list[data-task={task}] li')
            assert len(items) == 5
        overlay = browser.find_element(
            By.CSS_SELECTOR, '.view[data-level=part] canvas.overlay')
        ActionChains(browser).move_to_element_with_offset(overlay, 3,
                                                          3).perform()
        spans = browser.find_elements(By.CSS_SELECTOR, '#pointer .level')
        assert [s.get_attribute('data-level')
                for s in spans] == ['object', 'part', 'material']
        shot = tmp_path / 'demo_multi.png'
        assert browser.save_screenshot(str(shot))
        keep = os.environ.get('UPERNET_MM_DEMO_SCREENSHOT_MULTI')
        if keep:
            shutil.copyfile(shot, keep)
    finally:
        srv.shutdown()
        srv.server_close()
