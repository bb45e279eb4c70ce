from __future__ import annotations

from adapters.fakes.mailer import InMemoryMailer
from adapters.inprocess.folder_mailer import FolderMailer
from adapters.system.clock import FixedClock
from application.ports.messaging import EmailMessage, Mailer
from tests.contract.mailer_contract import MailerOutageContract


class TestInMemoryMailer(MailerOutageContract):
    def make_mailer(self) -> Mailer:
        return InMemoryMailer()

    async def delivered(self, mailer: Mailer) -> list[EmailMessage]:
        assert isinstance(mailer, InMemoryMailer)
        return mailer.sent

    def make_unreachable_mailer(self) -> Mailer:
        mailer = InMemoryMailer()
        mailer.go_down()
        return mailer


class TestFolderMailer(MailerOutageContract):
    def make_mailer(self) -> Mailer:
        return FolderMailer(self.tmp_path / "outbox", FixedClock())

    async def delivered(self, mailer: Mailer) -> list[EmailMessage]:
        assert isinstance(mailer, FolderMailer)
        return mailer.saved_messages()

    def make_unreachable_mailer(self) -> Mailer:
        not_a_folder = self.tmp_path / "outbox"
        not_a_folder.write_text("a file where the folder should be")
        return FolderMailer(not_a_folder, FixedClock())
