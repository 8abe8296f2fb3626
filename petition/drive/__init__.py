"""Letter drives: supporters write personal letters to a prisoner; organisers moderate,
translate, print and send them in batches; the public sees the count.

writing: the writer's side (write, confirm, edit, withdraw); review: moderation and
translation; batches: gathering, the printed files, marking sent; replies; counts: what the
page shows; settings: the drive's own settings and guidance; mails: what writers receive.
"""
