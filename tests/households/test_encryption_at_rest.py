"""ID numbers and phones are encrypted at rest (issue 12): the tables, the change history and
the files on disk hold no plain ID number or phone; lookups and the one-person-per-county
constraint work through the keyed blind index; a tampered or moved ciphertext fails loudly;
keys rotate in batches while old and new both read."""

import datetime
import importlib
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from associations import crypto, jobs, reencrypt
from associations.bulk import COPY_FROM_ROWS, insert_many, row_class
from associations.crypto import DecryptionError
from associations.imports import jobs as import_jobs
from associations.scope import Scope, UnscopedReason, activate, unscoped
from households import services
from households.models import Household, Person
from members.models import Member

from ..conftest import make_id_number
from ..members.test_import import person_row, xlsx

pytestmark = pytest.mark.django_db

D = datetime.date
K1 = "ZGV2LW9ubHkta2V5LTEtbm90LWEtc2VjcmV0LTAwMDA="  # config/settings/test.py
K2 = "c2Vjb25kLXRlc3Qta2V5LWZvci1yb3RhdGlvbi0wMDA="
STORED = re.compile(r"^k[12]:[A-Za-z0-9+/=]+$")


def rows(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def stored_persons(ids):
    return rows(
        "SELECT id, id_number, phone, id_number_index, phone_index FROM households_person "
        "WHERE id = ANY(%s) ORDER BY id",
        [list(ids)],
    )


def new_person(world, sequence, *, phone="13900001111", village=0, county="a"):
    place = getattr(world, county)
    return services.person_create(
        actor=place.users["county_admin"],
        village=place.villages[village],
        name=f"测试{sequence}",
        id_number=make_id_number("130534", D(1955, 7, 7), 300 + sequence, "male"),
        phone=phone,
    )


def test_services_store_ciphertext_and_index_never_the_plain_numbers(world):
    with world.a.scope():
        person = new_person(world, 1, phone="13912345678")
        household = services.household_create(
            actor=world.a.users["county_admin"],
            village=world.a.villages[0],
            number="Z001",
            phone="0319-8123456",
        )
        services.person_update(actor=world.a.users["county_admin"], person=person, phone="")
        services.person_update(
            actor=world.a.users["county_admin"], person=person, phone="13700001234"
        )
        [(_, id_number, phone, id_index, phone_index)] = stored_persons([person.pk])
        [(h_phone, h_index)] = rows(
            "SELECT phone, phone_index FROM households_household WHERE id = %s", [household.pk]
        )
        history = rows(
            "SELECT coalesce(before::text, ''), after::text FROM associations_changerecord "
            "WHERE (object_type = 'households.Person' AND object_id = %s) "
            "OR (object_type = 'households.Household' AND object_id = %s)",
            [person.pk, household.pk],
        )
    for value in (id_number, phone, h_phone):
        assert STORED.match(value), value
    for plain in (person.id_number, "13912345678", "13700001234", "0319-8123456", "8123456"):
        assert plain not in f"{id_number}{phone}{h_phone}{id_index}{phone_index}{h_index}"
        assert not any(plain in before + after for before, after in history), plain
    assert len(history) == 4
    field = Person._meta.get_field("id_number")
    assert id_index == crypto.blind_index(person.id_number, context="households_person.id_number")
    assert field.index_of(person.id_number) == id_index
    assert phone_index == crypto.blind_index("13700001234", context="households_person.phone")
    # The history keeps the masks (the detail pages' form), so a change is still seen.
    assert any("137******34" in after for _before, after in history)
    # Read back through the ORM: the plain values.
    with world.a.scope():
        fresh = Person.objects.get(pk=person.pk)
        assert (fresh.id_number, fresh.phone) == (person.id_number, "13700001234")
        assert Household.objects.get(pk=household.pk).phone == "0319-8123456"


def test_bulk_inserts_fill_ciphertext_and_index_on_both_paths(world):
    village = world.a.villages[1]
    numbers = [
        make_id_number("130534", D(1956, 1, 1) + datetime.timedelta(days=i), 7, "female")
        for i in range(600)
    ]
    with world.a.scope():
        small = [Person(name="小", sex="female", birth_date=D(1990, 1, 1), id_number=n,
                        phone="13811112222") for n in numbers[:3]]  # fmt: skip
        for person in small:
            person.place_under(village)
        insert_many(small)  # bulk_create
        PersonRow = row_class(Person)
        large = [
            PersonRow(name="大", sex="female", birth_date=D(1990, 1, 1), id_number=n,
                      phone="13822223333", name_initials="d")
            for n in numbers[3:]
        ]  # fmt: skip
        for row in large:
            row.place_under(village)
        assert len(large) >= COPY_FROM_ROWS
        insert_many(large)  # COPY through the staging table
        stored = stored_persons([p.pk for p in small + large])
        assert Person.objects.filter(id_number__in_list=numbers).count() == 600
        assert Person.objects.filter(phone="13822223333").count() == len(large)
    assert len(stored) == 600
    for (_pk, id_number, phone, id_index, phone_index), number in zip(stored, numbers, strict=True):
        assert STORED.match(id_number) and STORED.match(phone)
        assert number not in id_number + phone and "1382222" not in phone
        assert id_index == crypto.blind_index(number, context="households_person.id_number")
        assert phone_index is not None


def test_an_import_leaves_no_plain_number_in_tables_history_or_files(
    world, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    user = world.a.users["village_secretary"]
    row = person_row(1, 联系电话="13655556666")
    with activate(Scope.for_node(user.node)):
        job = import_jobs.job_create(
            actor=user, node=user.node, kind="members", upload=SimpleUploadedFile("名册.xlsx",
            xlsx([row]))
        )  # fmt: skip
        job = import_jobs.validate(job)
        upload = jobs.folder_path(job)
        files = [p for p in upload.rglob("*") if p.is_file()]
        assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
        # The committed upload's files go once its transaction commits.
        with django_capture_on_commit_callbacks(execute=True):
            assert import_jobs.start_commit(job)
        job.refresh_from_db()
        assert job.state == "done"
        person = Person.objects.get(id_number=row["身份证号码"])
        assert person.phone == "13655556666"
        stored = stored_persons([person.pk])
        history = rows(
            "SELECT coalesce(before::text, '') || after::text FROM associations_changerecord "
            "WHERE object_type = 'households.Person' AND object_id = %s",
            [person.pk],
        )
        jobs_text = rows("SELECT result::text FROM associations_job WHERE id = %s", [job.pk])
    text = repr(stored) + repr(history) + repr(jobs_text)
    assert history
    assert row["身份证号码"] not in text and "13655556666" not in text
    # The committed upload (full numbers) is not kept until the retention purge.
    assert not upload.exists() and job.input_file == ""
    left = [p for p in Path(tmp_path).rglob("*") if p.is_file()]
    for path in left:
        data = path.read_bytes()
        assert row["身份证号码"].encode() not in data and b"13655556666" not in data, path


def test_the_person_constraint_holds_per_county_through_the_index(world):
    number = world.a.persons[0].id_number
    with world.a.scope(), pytest.raises(IntegrityError) as refused:
        duplicate = Person(name="重复", sex="male", birth_date=D(1970, 1, 1), id_number=number)
        duplicate.place_under(world.a.villages[1])
        with transaction.atomic():
            duplicate.save()
    assert "person_id_unique_in_county" in str(refused.value)
    assert number not in str(refused.value)  # the key in the detail is the HMAC
    with world.b.scope():  # the same number in another county is another record
        other = Person(name="同号", sex="male", birth_date=D(1970, 1, 1), id_number=number)
        other.place_under(world.b.villages[0])
        other.save()
        assert Person.objects.get(id_number=number).pk == other.pk
    # A service says so in Chinese, as before.
    with world.a.scope(), pytest.raises(Exception) as error:
        services.person_create(
            actor=world.a.users["county_admin"],
            village=world.a.villages[1],
            name="重复",
            id_number=number,
        )
    assert "已" in str(error.value) and "person_id_unique_in_county" not in str(error.value)


def test_exact_lookups_work_through_the_index_and_partial_ones_refuse(world):
    first, second = world.a.persons[0], world.a.persons[1]
    with world.a.scope():
        services.person_update(
            actor=world.a.users["county_admin"], person=first, phone="13987654321"
        )
        by = Person.objects.filter
        assert list(by(id_number=first.id_number)) == [first]
        assert list(by(id_number=f" {first.id_number.lower()} ")) == [first]  # normalised
        assert set(by(id_number__in=[first.id_number, second.id_number, None])) == {first, second}
        assert set(by(id_number__in_list=[first.id_number])) == {first}
        assert set(by(id_number__any_of=[second.id_number])) == {second}
        assert first not in by(~Q(id_number=first.id_number))
        assert second in Person.objects.exclude(id_number=first.id_number)
        assert first in Person.objects.exclude(phone="")
        assert first not in Person.objects.exclude(phone="13987654321")
        assert set(by(phone="13987654321")) == {first}
        assert not by(id_number__isnull=True).filter(pk=first.pk).exists()
        assert not by(id_number__in=[]).exists()
        assert Member.objects.filter(person__id_number=first.id_number).exists()
        assert Person.objects.filter(pk=first.pk).values_list("id_number", flat=True)[0] == (
            first.id_number
        )
        for lookup in ("startswith", "endswith", "contains", "icontains", "gt", "prefix"):
            with pytest.raises(FieldError, match="encrypted"):
                list(by(**{f"id_number__{lookup}": "1305"}))
        with pytest.raises(FieldError, match="encrypted"):
            list(by(phone__endswith="4321"))
        # update() and bulk_update() write the index with the value.
        Person.objects.filter(pk=second.pk).update(phone="13511112222")
        assert list(by(phone="13511112222")) == [second]
        second.phone = "13533334444"
        Person.objects.bulk_update([second], ["phone"])
        assert list(by(phone="13533334444")) == [second] and not by(phone="13511112222")
        second.phone = "13544445555"
        second.save(update_fields=["phone"])
        assert list(by(phone="13544445555")) == [second]
        partial = Person.objects.only("phone").get(pk=second.pk)  # saves what it loaded
        partial.phone = "13566667777"
        partial.save()
        assert list(by(phone="13566667777")) == [second] and not by(phone="13544445555")


def test_a_tampered_or_moved_ciphertext_fails_loudly(world):
    person, household = world.a.persons[0], world.a.households[0]
    with world.a.scope():
        services.person_update(
            actor=world.a.users["county_admin"], person=person, phone="13912340000"
        )
        [(stored,)] = rows("SELECT id_number FROM households_person WHERE id = %s", [person.pk])
        body = stored.split(":", 1)[1]
        flipped = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
        rows("UPDATE households_person SET id_number = %s WHERE id = %s",
             [f"k1:{flipped}", person.pk])  # fmt: skip
        with pytest.raises(DecryptionError, match=r"households_person\.id_number"):
            Person.objects.get(pk=person.pk)
        # The ID number's (valid) ciphertext moved into the phone column does not decrypt.
        rows("UPDATE households_person SET id_number = %s, phone = %s WHERE id = %s",
             [stored, stored, person.pk])  # fmt: skip
        with pytest.raises(DecryptionError, match=r"households_person\.phone"):
            Person.objects.get(pk=person.pk)
        # Nor into another table's phone column.
        rows("UPDATE households_household SET phone = %s WHERE id = %s", [stored, household.pk])
        with pytest.raises(DecryptionError, match=r"households_household\.phone"):
            Household.objects.get(pk=household.pk)
        # A value under a key this installation does not have.
        rows("UPDATE households_household SET phone = %s WHERE id = %s",
             ["k9:" + body, household.pk])  # fmt: skip
        with pytest.raises(DecryptionError, match="no known key"):
            Household.objects.get(pk=household.pk)


def test_old_and_new_keys_both_read_during_rotation_then_all_are_rewritten(world, settings):
    with world.a.scope():
        old = [new_person(world, i) for i in range(3)]
    settings.FIELD_ENCRYPTION_KEYS = {"k2": K2, "k1": K1}
    with world.a.scope():
        new = [new_person(world, 10 + i) for i in range(2)]
        prefixes = {r[1][:3] for r in stored_persons([p.pk for p in old + new])}
        assert prefixes == {"k1:", "k2:"}
        for person in old + new:  # both keys read, lookups find both
            assert Person.objects.get(id_number=person.id_number).phone == "13900001111"

    # Interrupted in its second batch: the first stays done (the second is rolled back), and
    # a second run finishes.
    class Stop(Exception):
        pass

    def stop(_table, done):
        if done > 2:
            raise Stop

    table = next(t for t in reencrypt.encrypted_tables() if t.name == "households_person")
    with unscoped(reason=UnscopedReason.TEST_FIXTURES):
        before = reencrypt.pending(table)
        with pytest.raises(Stop):
            reencrypt.rotate(table, batch=2, progress=stop)
        assert reencrypt.pending(table) == before - 2
    call_command("rotate_keys", batch=2, stdout=(out := _Out()))
    assert "households_person" in out.text and "剩余 0 行" in out.text
    with unscoped(reason=UnscopedReason.TEST_FIXTURES):
        assert all(reencrypt.pending(t) == 0 for t in reencrypt.encrypted_tables())
        values = rows("SELECT id_number, phone FROM households_person")
        values += rows("SELECT phone, phone FROM households_household")
    assert values and all(v.startswith("k2:") for row in values for v in row if v is not None)
    settings.FIELD_ENCRYPTION_KEYS = {"k2": K2}  # the old key can go now
    with world.a.scope():
        for person in old + new + world.a.persons:
            assert Person.objects.get(id_number=person.id_number).pk == person.pk


class _Out:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def test_the_data_migration_encrypts_plain_rows_and_resumes(world):
    person = world.a.persons[0]
    household = world.a.households[0]
    with unscoped(reason=UnscopedReason.TEST_FIXTURES):
        # As stored before 0008: plain values, no index.
        rows(
            "UPDATE households_person SET id_number = %s, phone = '13900009999', "
            "id_number_index = NULL, phone_index = NULL WHERE id = %s",
            [person.id_number, person.pk],
        )
        rows(
            "UPDATE households_household SET phone = '0319-7654321', phone_index = NULL "
            "WHERE id = %s",
            [household.pk],
        )
        tables = [t for t in reencrypt.encrypted_tables() if t.name.startswith("households_")]
        assert sum(reencrypt.encrypt_plain(t) for t in tables) == 2
        assert sum(reencrypt.encrypt_plain(t) for t in tables) == 0  # nothing left to do
        [(_, id_number, phone, id_index, _)] = stored_persons([person.pk])
    assert STORED.match(id_number) and STORED.match(phone) and id_index
    with world.a.scope():
        assert Person.objects.get(id_number=person.id_number).phone == "13900009999"
        assert Household.objects.get(phone="0319-7654321").pk == household.pk


def test_keys_are_required_and_checked():
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS is not set"):
        crypto.check_keys({}, K1)
    with pytest.raises(ImproperlyConfigured, match="BLIND_INDEX_KEY is not set"):
        crypto.check_keys({"k1": K1}, "")
    with pytest.raises(ImproperlyConfigured, match="32 random bytes"):
        crypto.check_keys({"k1": "c2hvcnQ="}, K1)
    with pytest.raises(ImproperlyConfigured, match="key id"):
        crypto.check_keys({"K 1": K1}, K1)
    crypto.check_keys({"k2": K2, "k1": K1}, K2)
    assert crypto.parse_keys(f"k2:{K2}, k1:{K1}") == {"k2": K2, "k1": K1}
    assert len(crypto.generate_key()) == 44


def test_the_data_migration_masks_the_change_records_written_before(world):
    migration = importlib.import_module("households.migrations.0009_encrypt_existing")
    person = world.a.persons[0]
    with unscoped(reason=UnscopedReason.TEST_FIXTURES):
        rows(
            "UPDATE associations_changerecord SET before = %s, after = %s "
            "WHERE object_type = 'households.Person' AND object_id = %s",
            [
                json.dumps({"name": "甲", "phone": "", "id_number": None}),
                json.dumps({"name": "甲", "phone": "13812345678", "id_number": person.id_number}),
                person.pk,
            ],
        )
        migration.mask_history(None, None)
        migration.mask_history(None, None)  # again: what is masked stays as it is
        [(before, after)] = rows(
            "SELECT before::text, after::text FROM associations_changerecord "
            "WHERE object_type = 'households.Person' AND object_id = %s",
            [person.pk],
        )
    assert person.id_number not in after and "13812345678" not in after
    assert json.loads(after)["phone"] == "138******78"
    assert json.loads(after)["id_number"].startswith(person.id_number[:6] + "*")
    assert json.loads(before) == {"name": "甲", "phone": "", "id_number": None}


def test_production_refuses_to_start_without_keys():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": "postgres://x:y@127.0.0.1:1/none",
        "SECRET_KEY": "s" * 40,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
    }
    command = [sys.executable, "-c", "import django; django.setup()"]
    missing = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert missing.returncode != 0 and "FIELD_ENCRYPTION_KEYS is not set" in missing.stderr
    env |= {"FIELD_ENCRYPTION_KEYS": f"k1:{K1}", "BLIND_INDEX_KEY": K2}
    started = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert started.returncode == 0, started.stderr


def test_generate_encryption_key_prints_a_usable_key():
    call_command("generate_encryption_key", stdout=(out := _Out()))
    key = out.text.strip()
    crypto.check_keys({"k1": key}, key)
