"""The live explainer in a real browser: `zoo explain --serve` as a process, headless Chromium
drawing on the canvas stroke by stroke, switching models, picking examples, and the bad inputs.
A screenshot of each state is kept in runs/explain-ui/ for a person to look at."""

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.pointer_input import PointerInput
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

import zoo
from tests.browser import ROOT, chromium, explain_server
from zoo.explain import MAX_MAPS, Explainer

SHOTS = ROOT / "runs" / "explain-ui"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with explain_server(tmp_path_factory.mktemp("explain-ui")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium(1400, 1800) as driver:
        yield driver


def answered(driver, action, timeout=60):
    """Run `action`, then wait for the page's next answer; returns (state, HTTP status).
    A string action is an address to open: then the new page's first answer."""
    def answers():
        return int(driver.find_element(By.TAG_NAME, "body").get_attribute("data-answers") or 0)

    if isinstance(action, str):
        before = 0
        driver.get(action)
    else:
        before = answers()
        action()
    WebDriverWait(driver, timeout).until(lambda d: answers() > before)
    body = driver.find_element(By.TAG_NAME, "body")
    return body.get_attribute("data-state"), int(body.get_attribute("data-status"))


def stroke(driver, points):
    """One pen stroke through `points`, pixel offsets from the pad's centre."""
    pad = driver.find_element(By.ID, "pad")
    chain = ActionChains(driver).move_to_element_with_offset(pad, *points[0]).click_and_hold()
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:], strict=True):
        for step in range(1, 5):  # several moves a segment, as a hand gives pointermove events
            chain.move_by_offset(round((x1 - x0) / 4), round((y1 - y0) / 4))
    chain.release().perform()


def touch_stroke(driver, points):
    """One stroke with a finger (a touch pointer), offsets from the pad's centre."""
    pad = driver.find_element(By.ID, "pad")
    actions = ActionBuilder(driver, mouse=PointerInput(interaction.POINTER_TOUCH, "finger"))
    actions.pointer_action.move_to(pad, *points[0]).pointer_down()
    for x, y in points[1:]:
        actions.pointer_action.move_to(pad, x, y)
    actions.pointer_action.pointer_up()
    actions.perform()


def prediction(driver) -> str:
    return driver.find_element(By.ID, "prediction").text.split(" ")[0]


def message(driver) -> str:
    box = driver.find_element(By.ID, "message")
    return "" if box.get_attribute("hidden") is not None else box.text


def check_layers(driver, weight: str):
    """Every layer the explainer shows for `weight` is on the page with all its maps, and the
    maps are drawn (not one colour over the whole layer)."""
    explainer = Explainer(zoo.load(weight), zoo.weight_info(weight).classes)
    expected = [(l.name, min(l.output.shape[-1], MAX_MAPS)) for l in explainer.shown]
    shown = driver.execute_script("""
        return [...document.querySelectorAll('#layers .layer')].map(s => {
          const maps = [...s.querySelectorAll('canvas')];
          const pixels = maps.flatMap(c => [...c.getContext('2d').getImageData(
            0, 0, c.width, c.height).data]);
          const drawn = pixels.some((v, i) => v !== pixels[i % 4]);
          return [s.dataset.layer, maps.length, drawn];
        });""")
    assert [(name, n) for name, n, _ in shown] == expected
    assert all(drawn for _, _, drawn in shown), shown
    filters = driver.find_elements(By.CSS_SELECTOR, "#filters .filter-row")
    assert [f.get_attribute("data-layer") for f in filters] == [f.layer for f in explainer.filters]


def shot(driver, name):
    """The whole page, as tall as it is, in runs/explain-ui/NAME.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = driver.get_window_size()
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(size["width"], height + size["height"] - driver.execute_script(
        "return window.innerHeight"))
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    driver.set_window_size(size["width"], size["height"])


def test_draw_switch_and_pick(server, browser):
    driver = browser
    assert answered(driver, server + "/") == ("ready", 200)  # MNIST image 0
    assert Select(driver.find_element(By.ID, "model")).first_selected_option \
        .get_attribute("value") == "conv3_bn.mnist"
    options = [o.get_attribute("value") for o in
               Select(driver.find_element(By.ID, "model")).options]
    assert options == zoo.list_weights()

    # a 7, stroke by stroke: each stroke gets its own answer
    driver.find_element(By.ID, "clear").click()
    assert answered(driver, lambda: stroke(driver, [(-70, -90), (70, -90)]))[0] == "ready"
    assert answered(driver, lambda: stroke(driver, [(70, -90), (-15, 100)]))[0] == "ready"
    assert prediction(driver) == "7"
    assert driver.find_element(By.ID, "caption").text.startswith("your drawing")
    check_layers(driver, "conv3_bn.mnist")
    shot(driver, "conv3_bn-drawn-7")
    driver.find_element(By.CSS_SELECTOR, "#layers .layer canvas").click()  # enlarge a map
    assert driver.find_element(By.ID, "zoom").is_displayed()
    shot(driver, "conv3_bn-enlarged-map")
    driver.find_element(By.ID, "zoom").click()
    assert not driver.find_element(By.ID, "zoom").is_displayed()

    # another net reads the same drawing
    select = Select(driver.find_element(By.ID, "model"))
    assert answered(driver, lambda: select.select_by_value("lenet5.mnist"))[0] == "ready"
    assert prediction(driver) == "7"
    assert driver.find_element(By.ID, "caption").text.startswith("your drawing")
    check_layers(driver, "lenet5.mnist")

    # a test image by index, and one the model gets wrong
    index = driver.find_element(By.ID, "mnist-index")
    index.clear()
    index.send_keys("18")
    answered(driver, driver.find_element(By.ID, "mnist-show").click)
    (_, _), (_, y_test) = zoo.data.load_mnist()
    assert driver.find_element(By.ID, "caption").text.startswith(
        f"MNIST test image 18: 28x28, true class {y_test[18]}")
    answered(driver, driver.find_element(By.ID, "mnist-wrong").click)
    caption = driver.find_element(By.ID, "caption").text
    assert "one that lenet5.mnist gets wrong" in caption
    assert f"true class {prediction(driver)}" not in caption
    shot(driver, "lenet5-misclassified")

    # the X/O nets: the lecture's X and O, and a generated one
    assert answered(driver, lambda: select.select_by_value("xo_lecture.lecture"))[0] == "ready"
    assert prediction(driver) == "X"
    assert not driver.find_element(By.ID, "pad").is_displayed()
    answered(driver, driver.find_element(By.ID, "xo-O").click)
    assert prediction(driver) == "O"
    check_layers(driver, "xo_lecture.lecture")
    answered(driver, lambda: select.select_by_value("xo.generated"))
    answered(driver, driver.find_element(By.ID, "xo-generated").click)
    assert driver.find_element(By.ID, "caption").text.startswith("a generated")
    check_layers(driver, "xo.generated")

    # spoken digits: a recording's spectrogram
    assert answered(driver, lambda: select.select_by_value("audio_conv.fsdd"))[0] == "ready"
    fsdd = Select(driver.find_element(By.ID, "fsdd"))
    answered(driver, lambda: fsdd.select_by_value("4_jackson_2.wav"))
    assert driver.find_element(By.ID, "caption").text.startswith(
        "FSDD recording 4_jackson_2.wav (log-mel spectrogram): 64x61, true class 4")
    assert prediction(driver) == "4"
    check_layers(driver, "audio_conv.fsdd")
    shot(driver, "audio_conv-spectrogram")

    # back to digits, a 1 drawn with a finger
    answered(driver, lambda: select.select_by_value("conv3_bn_small.mnist"))
    assert driver.find_element(By.ID, "caption").text.startswith("your drawing")  # the 7 again
    assert prediction(driver) == "7"
    driver.find_element(By.ID, "clear").click()
    assert answered(driver, lambda: touch_stroke(
        driver, [(5, -100), (3, -50), (0, 0), (-3, 50), (-5, 100)]))[0] == "ready"
    assert prediction(driver) == "1"


def test_bad_input_gets_a_message(server, browser, tmp_path):
    driver = browser
    answered(driver, server + "/?model=conv3.mnist")
    # an empty canvas, explained on purpose
    driver.find_element(By.ID, "clear").click()
    state = answered(driver, driver.find_element(By.ID, "explain").click)
    assert state == ("error", 400)
    assert "no digit found (the image is blank)" in message(driver)
    # a huge upload
    huge = tmp_path / "huge.png"
    huge.write_bytes(b"\x89PNG" + bytes(5 * 2**20))
    state = answered(driver, lambda: driver.find_element(By.ID, "upload").send_keys(str(huge)))
    assert state == ("error", 413)
    assert "upload too large" in message(driver)
    # a picture the zoo cannot read
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    state = answered(driver, lambda: driver.find_element(By.ID, "upload").send_keys(str(broken)))
    assert state == ("error", 400)
    assert "not a readable image" in message(driver)
    # an unknown model, asked for in the address
    state = answered(driver, server + "/?model=conv9.mnist")
    assert state == ("error", 404)
    assert "unknown model 'conv9.mnist'" in message(driver)
    shot(driver, "unknown-model")
    # malformed JSON, straight to the server
    request = urllib.request.Request(server + "/api/explain", data=b"{model:", method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=30)
    assert err.value.code == 400
    assert json.loads(err.value.read())["error"].startswith("malformed JSON")


def test_the_page_draws_and_explains_without_any_data_set(tmp_path, monkeypatch, browser):
    """Issue 25: with no data set here (ZOO_DATA_DIR an empty folder), the page opens without an
    error, only the MNIST pickers are off (each saying why), and a drawing is explained."""
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv("ZOO_DATA_DIR", str(empty))
    with explain_server(tmp_path) as url:
        browser.get(url)
        WebDriverWait(browser, 60).until(
            lambda d: d.find_element(By.ID, "mnist-missing").is_displayed())
        for button in ("mnist-index", "mnist-show", "mnist-wrong"):
            element = browser.find_element(By.ID, button)
            assert not element.is_enabled()
            assert "No MNIST here" in element.get_attribute("title")
        assert "drawing and uploading a picture work" in \
            browser.find_element(By.ID, "mnist-missing").text
        assert message(browser) == ""  # no red error
        state, status = answered(browser, lambda: stroke(browser, [(0, -60), (0, 60)]))
        assert status == 200 and state != "error"
        assert prediction(browser) in "0123456789"
        shot(browser, "no-data")


def test_a_molecule_is_explained_on_the_page(server, browser):
    """Issue 29: a SMILES typed on the page, explained by a molecule weight; a bad one is a
    message."""
    driver = browser
    answered(driver, server + "/?model=conv3.mnist")
    WebDriverWait(driver, 30).until(
        lambda d: d.find_element(By.ID, "molecule-model").find_elements(By.TAG_NAME, "option"))
    Select(driver.find_element(By.ID, "molecule-model")).select_by_value("smiles_cnn.freesolv")
    box = driver.find_element(By.ID, "smiles")
    box.clear()
    box.send_keys("CCO")
    driver.find_element(By.ID, "molecule-explain").click()
    WebDriverWait(driver, 60).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-molecule") == "ready")
    assert driver.find_element(By.ID, "molecule-said").text.startswith("CCO: hydration free")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#molecule-string span")) == 3
    shot(driver, "molecule")
    box.clear()
    box.send_keys("C1CC")
    driver.find_element(By.ID, "molecule-explain").click()
    WebDriverWait(driver, 60).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-molecule") == "error")
    assert "not a SMILES string" in message(driver)
