"""A staff member's flow in a real browser (headless Debian chromium, Selenium):
sign in → edit a procedure's fee → publish → the chat widget's answer shows the new fee.

The gateway runs alone on a copy of the real knowledge store and index (Rasa
unreachable: the gateway answers procedure and fee questions itself), so
publishing never touches var/. Screenshot: var/test-artifacts/staff-published.png.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest
from conftest import REAL_SETTINGS
from processes import CITIZENBOT, Server, free_port, knowledge_copy, screenshot, start_gateway
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from test_widget_browser import send

pytestmark = pytest.mark.slow

PASSWORD = "mật-khẩu-của-quản-trị"
TAM_TRU = "1.004194"


@pytest.fixture(scope="module")
def staff_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("staff-stack")
    env = knowledge_copy(workdir)
    index = workdir / "index"
    version = (REAL_SETTINGS.index_dir / "CURRENT").read_text().strip()
    shutil.copytree(REAL_SETTINGS.index_dir / version, index / version)
    (index / "CURRENT").write_text(version)
    cache = REAL_SETTINGS.var_dir / "embedding-cache.npz"
    if cache.is_file():  # the rebuild reuses the vectors, as `citizenbot index` does
        shutil.copyfile(cache, workdir / cache.name)
    env = {**env, "CITIZENBOT_INDEX_DIR": str(index), "CITIZENBOT_VAR_DIR": str(workdir)}
    env["CITIZENBOT_MODEL_DIR"] = str(REAL_SETTINGS.model_dir)
    created = subprocess.run(
        [str(CITIZENBOT), "staff", "create-admin", "quantri"],
        input=PASSWORD + "\n",
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    server = start_gateway(workdir, env, f"http://127.0.0.1:{free_port()}", name="staff gateway")
    try:
        yield server
    finally:
        server.stop()


def test_edit_a_fee_publish_and_the_widget_answers_with_it(staff_gateway: Server, browser) -> None:  # type: ignore[no-untyped-def]
    driver = browser
    wait = WebDriverWait(driver, 30)
    driver.get(f"{staff_gateway.url}/staff/procedures/{TAM_TRU}")  # not signed in: the sign-in page
    wait.until(ec.visibility_of_element_located((By.ID, "username"))).send_keys("quantri")
    driver.find_element(By.ID, "password").send_keys(PASSWORD, Keys.ENTER)

    fees = wait.until(ec.visibility_of_element_located((By.ID, "fees")))
    text = fees.get_attribute("value")
    assert "| 15000 | 7000 |" in text
    fees.clear()
    fees.send_keys(text.replace("| 15000 | 7000 |", "| 16000 | 8000 |", 1))
    driver.find_element(By.XPATH, "//button[normalize-space()='Lưu']").click()
    notice = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".notice")))
    assert "Đã lưu" in notice.text
    assert "16.000 đồng" in driver.find_element(By.TAG_NAME, "table").text  # the history shows the change

    driver.get(f"{staff_gateway.url}/staff")
    driver.find_element(By.XPATH, "//button[starts-with(normalize-space(), 'Xuất bản')]").click()
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".notice")))

    def published(d) -> bool:  # type: ignore[no-untyped-def]
        d.refresh()
        state = d.find_element(By.ID, "publish-state").text
        assert "thất bại" not in state, state
        return "Đã xuất bản" in state

    WebDriverWait(driver, 600, poll_frequency=2).until(published)
    screenshot(driver, "staff-published")

    driver.get(f"{staff_gateway.url}/")
    wait.until(ec.visibility_of_element_located((By.ID, "cb-message")))
    answer = send(driver, "lệ phí đăng ký tạm trú là bao nhiêu tiền")
    assert "16.000 đồng" in answer.text and "15.000 đồng" not in answer.text
    screenshot(driver, "staff-widget-new-fee")
