"""The portal chat widget in a real browser (headless Debian chromium at phone width, 360 px).

Opens the demo page of a live gateway (gateway + Rasa + action server, see
tests/processes.py), holds a conversation and checks what the page shows:
a procedure answer with its citation link, a dossier status with the check
digits, a rating, a callback request with its ticket, a `<script>` message
shown as text, the larger-text option. Screenshot: var/test-artifacts/widget.png.
"""

from __future__ import annotations

import pytest
from processes import Stack, screenshot
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from bot.feedback import FeedbackStore

pytestmark = pytest.mark.slow


def bot_messages(driver) -> list:  # type: ignore[no-untyped-def]
    return driver.find_elements(By.CSS_SELECTOR, ".cb-msg.cb-bot:not(.cb-typing)")


def send(driver, text: str, timeout: float = 120):  # type: ignore[no-untyped-def]
    """Types a message, presses Enter (the keyboard path) and waits for the new reply."""
    before = len(bot_messages(driver))
    box = driver.find_element(By.ID, "cb-message")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)
    WebDriverWait(driver, timeout).until(lambda d: len(bot_messages(d)) > before and not d.find_elements(
        By.CSS_SELECTOR, ".cb-typing"))
    return bot_messages(driver)[-1]


def test_a_citizen_conversation_in_the_widget(live_stack: Stack, browser) -> None:  # type: ignore[no-untyped-def]
    driver = browser
    driver.get(live_stack.gateway + "/")
    wait = WebDriverWait(driver, 30)
    wait.until(ec.visibility_of_element_located((By.ID, "cb-message")))
    assert driver.switch_to.active_element.get_attribute("id") == "cb-message"  # focus is in the input

    # A procedure question: answer with the citation link.
    answer = send(driver, "làm tạm trú cần giấy tờ gì")
    assert answer.get_attribute("data-kind") == "answer"
    assert "tạm trú" in answer.text
    link = answer.find_element(By.CSS_SELECTOR, ".cb-citation a")
    assert "1.004194" in link.get_attribute("href") and "Đăng ký tạm trú" in link.text

    # Rate it.
    driver.find_element(By.CSS_SELECTOR, ".cb-rating button[data-rating='very_satisfied']").click()
    done = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".cb-rating-done")))
    assert "Cảm ơn" in done.text and "Rất hài lòng" in done.text
    feedback = FeedbackStore(live_stack.database_url)
    ratings = feedback.list_ratings()
    assert ratings[0].rating.value == "very_satisfied" and ratings[0].procedure_code == "1.004194"

    # Dossier status, with the check digits.
    asked = send(driver, "cho mình hỏi hồ sơ của mình đến đâu rồi")
    assert "mã hồ sơ" in asked.text
    send(driver, "000.00.21.H48-261117-0005")
    status = send(driver, "8908")
    assert status.get_attribute("data-kind") == "dossier"
    assert "đã có kết quả, đang chờ trả" in status.text and "Ngô T. H." in status.text

    # A message that looks like HTML is shown as text, never run.
    hostile = "<script>window.__pwned = 1</script><b>đậm</b>"
    send(driver, hostile)
    shown = driver.find_elements(By.CSS_SELECTOR, ".cb-msg.cb-user .cb-text")[-1]
    assert shown.text == hostile
    assert driver.execute_script("return window.__pwned === undefined")
    assert not driver.find_elements(By.CSS_SELECTOR, ".cb-log script, .cb-log b")

    # Ask for a person: the callback form, then the ticket number in the conversation.
    driver.find_element(By.XPATH, "//button[normalize-space()='Gặp cán bộ']").click()
    phone = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".cb-side-form input[type='tel']")))
    phone.send_keys("0912 345 678")
    driver.find_element(By.CSS_SELECTOR, ".cb-side-form button[type='submit']").click()
    ticket = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".cb-ticket")))
    number = ticket.get_attribute("data-ticket")
    assert number.startswith("YC-") and number in ticket.text
    stored = feedback.callback(number)
    assert stored is not None and stored.phone == "0912345678"

    # Larger text, from the keyboard: Space on the focused button.
    toggle = driver.find_element(By.CSS_SELECTOR, ".cb-header button[aria-pressed]")
    size_before = driver.execute_script("return getComputedStyle(document.querySelector('.cb-root')).fontSize")
    toggle.send_keys(Keys.SPACE)
    assert toggle.get_attribute("aria-pressed") == "true"
    size_after = driver.execute_script("return getComputedStyle(document.querySelector('.cb-root')).fontSize")
    assert float(size_after.rstrip("px")) > float(size_before.rstrip("px"))

    # Phone width: nothing overflows sideways.
    assert driver.execute_script("return window.innerWidth") == 360
    assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    path = screenshot(driver, "widget")
    assert path.stat().st_size > 10_000
