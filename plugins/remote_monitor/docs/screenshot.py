"""Take docs/monitor.png: `hookfit monitor`'s page in headless Chromium while
`hookfit train` runs with RemoteMonitor on.

    python plugins/remote_monitor/docs/screenshot.py

Needs the dev environment (every plugin installed), Debian's chromium and
chromium-driver, and selenium (the plugin's `test` extra).
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

OUT = Path(__file__).with_name("monitor.png")
HOOKFIT = [sys.executable, "-m", "hookfit"]


def train(root: str, *extra: str) -> subprocess.Popen:
    args = ["train", "-p", "reduce_lr_on_plateau", "-p", "remote_monitor",
            "--set", f"callbacks.remote_monitor.root={root}", "--set", "fit.verbose=0",
            "--set", "callbacks.reduce_lr_on_plateau.patience=1",
            "--set", "callbacks.reduce_lr_on_plateau.monitor=loss", *extra]  # fmt: skip
    return subprocess.Popen([*HOOKFIT, *args], cwd=work, stdout=subprocess.DEVNULL)


with tempfile.TemporaryDirectory() as work:
    monitor = subprocess.Popen(
        [*HOOKFIT, "monitor", "--port", "0", "--data", f"{work}/data"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = re.search(r"http://[\d.]+:\d+", monitor.stdout.readline())[0]
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--window-size=1280,900"):
        options.add_argument(argument)
    browser = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    try:
        browser.get(url + "/")
        train(url, "--set", "fit.epochs=12", "--set", "model.optimizer=sgd").wait()
        running = train(url, "--set", "fit.epochs=40")

        def shown(_: object) -> bool:
            summary = browser.find_element(By.ID, "summary").text
            return summary.startswith("2 runs") and int(summary.split()[2]) >= 30

        WebDriverWait(browser, 120, poll_frequency=0.05).until(shown)
        assert running.poll() is None, "training ended before the screenshot"
        browser.save_screenshot(str(OUT))
        running.wait()
    finally:
        browser.quit()
        monitor.terminate()
        monitor.wait()
print(f"wrote {OUT}")
