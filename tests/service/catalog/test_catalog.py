from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import inspect

from tests.postgres import DATABASES
from trayscan.catalog import Catalog, NewImage
from trayscan.config import Settings
from trayscan.errors import ImageNotFoundError, ProductExistsError, ProductNotFoundError

pytestmark = pytest.mark.parametrize("database", DATABASES, indirect=True)


def image(value: float = 1.0) -> NewImage:
    return NewImage("x/1.png", (1.0, 2.0, 3.0, 4.0), np.full(8, value, np.float32), "emb")


def test_migrations_create_the_schema(settings: Settings) -> None:
    catalog = Catalog.open(settings.sqlalchemy_url)
    tables = set(inspect(catalog.database.engine).get_table_names())
    assert {"products", "gallery_images", "receipts", "alembic_version"} <= tables
    catalog.close()
    Catalog.open(settings.sqlalchemy_url).close()  # migrating again is a no-op


def test_product_round_trip_keeps_money_exact(catalog: Catalog) -> None:
    catalog.create_product("A", "Apple", Decimal("0.10"), "CNY")
    product = catalog.get_product("A")
    assert product.price == Decimal("0.10") and isinstance(product.price, Decimal) and product.active
    with pytest.raises(ProductExistsError):
        catalog.create_product("A", "Again", Decimal("1"), "CNY")
    with pytest.raises(ProductNotFoundError):
        catalog.get_product("B")


def test_images_keep_their_embedding(catalog: Catalog) -> None:
    catalog.create_product("A", "Apple", Decimal("1"), "CNY")
    with catalog.transaction() as session:
        [image_id] = catalog.add_images(session, "A", [image(0.5)])
    [record] = catalog.images()
    assert (record.id, record.sku, record.box, record.embedder) == (
        image_id,
        "A",
        (1.0, 2.0, 3.0, 4.0),
        "emb",
    )
    np.testing.assert_array_equal(record.embedding, np.full(8, 0.5, np.float32))


def test_image_ids_are_never_reused(catalog: Catalog) -> None:
    catalog.create_product("A", "Apple", Decimal("1"), "CNY")
    with catalog.transaction() as session:
        first = catalog.add_images(session, "A", [image(), image()])
    catalog.delete_image(first[-1])
    with catalog.transaction() as session:
        [again] = catalog.add_images(session, "A", [image()])
    assert again > max(first)


def test_deleting_a_product_deletes_its_images(catalog: Catalog) -> None:
    catalog.create_product("A", "Apple", Decimal("1"), "CNY")
    with catalog.transaction() as session:
        ids = catalog.add_images(session, "A", [image(), image()])
    assert [record.id for record in catalog.delete_product("A")] == ids
    assert catalog.image_ids() == set()


def test_images_of_one_product(catalog: Catalog) -> None:
    for sku in ("A", "B"):
        catalog.create_product(sku, sku, Decimal("1"), "CNY")
    with catalog.transaction() as session:
        ids = catalog.add_images(session, "A", [image(), image()])
        catalog.add_images(session, "B", [image()])
    assert [record.id for record in catalog.product_images("A")] == ids
    assert catalog.get_image(ids[1]).sku == "A"
    with pytest.raises(ProductNotFoundError):
        catalog.product_images("C")
    with pytest.raises(ImageNotFoundError):
        catalog.get_image(999)


def test_active_labels_leave_out_inactive_products(catalog: Catalog) -> None:
    for sku in ("A", "B"):
        catalog.create_product(sku, sku, Decimal("1"), "CNY")
    with catalog.transaction() as session:
        [a] = catalog.add_images(session, "A", [image()])
        [b] = catalog.add_images(session, "B", [image()])
    catalog.update_product("B", {"active": False})
    assert catalog.active_labels([a, b, 999]) == {a: "A"}


def test_failed_transaction_leaves_no_rows(catalog: Catalog) -> None:
    catalog.create_product("A", "Apple", Decimal("1"), "CNY")
    with pytest.raises(RuntimeError), catalog.transaction() as session:
        catalog.add_images(session, "A", [image()])
        raise RuntimeError("index write failed")
    assert catalog.image_ids() == set()


def test_embeddings_are_read_by_embedder_and_size_without_records(catalog: Catalog) -> None:
    catalog.create_product("A", "Apple", Decimal("1"), "CNY")
    other = NewImage("x/2.png", (1.0, 2.0, 3.0, 4.0), np.full(4, 9.0, np.float32), "old-embedder")
    with catalog.transaction() as session:
        ids = catalog.add_images(session, "A", [image(0.25), other, image(0.75)])
    assert catalog.embedded_image_ids("emb", 8) == {ids[0], ids[2]}
    assert catalog.embedded_image_ids("emb", 4) == set()
    got_ids, vectors = catalog.embeddings("emb", 8)
    assert got_ids == [ids[0], ids[2]] and vectors.shape == (2, 8)
    np.testing.assert_array_equal(vectors[:, 0], [0.25, 0.75])
    got_ids, vectors = catalog.embeddings("emb", 8, [ids[2], ids[1]])  # the old embedder's image is left out
    assert got_ids == [ids[2]] and vectors[0, 0] == 0.75
    assert [r.id for r in catalog.images_by_ids([ids[1], ids[0]])] == [ids[0], ids[1]]


def test_sku_embeddings_of_active_products_for_one_embedder(catalog: Catalog) -> None:
    for sku in ("A", "B", "C"):
        catalog.create_product(sku, sku, Decimal("1"), "CNY")
    first, second = np.arange(8, dtype=np.float32), np.full(8, 2.0, np.float32)
    with catalog.transaction() as session:
        catalog.add_images(session, "A", [NewImage("a/1.png", (1.0, 2.0, 3.0, 4.0), first, "emb"),
                                          NewImage("a/2.png", (1.0, 2.0, 3.0, 4.0), second, "emb"),
                                          NewImage("a/3.png", (1.0, 2.0, 3.0, 4.0), np.ones(4, np.float32), "emb"),
                                          NewImage("a/4.png", (1.0, 2.0, 3.0, 4.0), first, "other")])
        catalog.add_images(session, "B", [NewImage("b/1.png", (1.0, 2.0, 3.0, 4.0), first, "emb")])
    catalog.update_product("B", {"active": False})
    found = catalog.sku_embeddings(["A", "B", "C", "NOPE"], "emb", 8)
    assert list(found) == ["A"]  # B is inactive, C has no images; another embedder's or dimension's are left out
    np.testing.assert_array_equal(found["A"], np.stack([first, second]))
    assert catalog.sku_embeddings([], "emb", 8) == {}


def test_kiosk_sizes_of_active_products_with_kiosk_photos(catalog: Catalog) -> None:
    for sku in ("A", "B", "C"):
        catalog.create_product(sku, sku, Decimal("1"), "CNY")
    kiosk = NewImage("x/2.png", (1.0, 2.0, 3.0, 4.0), np.ones(8, np.float32), "emb", kiosk_size=0.12)
    with catalog.transaction() as session:
        catalog.add_images(session, "A", [image(), kiosk, kiosk])
        catalog.add_images(session, "B", [kiosk])
        catalog.add_images(session, "C", [image()])  # no kiosk photo
    catalog.update_product("B", {"active": False})
    assert catalog.kiosk_sizes(["A", "B", "C", "NOPE"]) == {"A": [0.12, 0.12]}
    assert catalog.kiosk_sizes([]) == {}


def test_sku_texts_hold_the_name_and_the_texts_read_of_active_products(catalog: Catalog) -> None:
    for sku, name in (("A", "Sunny Cherry 125g"), ("B", "Sunny Cherry 200g"), ("C", "Sunny Lemon 125g")):
        catalog.create_product(sku, name, Decimal("1"), "CNY")
    read = NewImage("x/2.png", (1.0, 2.0, 3.0, 4.0), np.ones(8, np.float32), "emb", printed_text="SUNNY CHERRY 125g")
    with catalog.transaction() as session:
        catalog.add_images(session, "A", [image(), read])
        catalog.add_images(session, "C", [read])
    catalog.update_product("C", {"active": False})
    assert catalog.sku_texts(["A", "B", "C", "NOPE"]) == {
        "A": ["Sunny Cherry 125g", "SUNNY CHERRY 125g"],
        "B": ["Sunny Cherry 200g"],
    }
    assert catalog.product_images("A")[1].printed_text == "SUNNY CHERRY 125g"
