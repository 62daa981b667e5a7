"""Steps the browser tests share: logging in to the admin and out of it."""


def log_in(page, base, username="curator", password="palmyra-curator"):
    """Log in to the admin at `base` (the demo curator unless told otherwise)."""
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def log_out(page):
    page.click("#logout-form button")
    page.wait_for_load_state()
