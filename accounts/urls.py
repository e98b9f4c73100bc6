app_name = "accounts"

urlpatterns: list = [
    # The accounts page, connect, callback and disconnect (the accounts issue).
]
