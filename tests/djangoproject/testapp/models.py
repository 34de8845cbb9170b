"""Models of the test app: an article with nullable and tied sort keys, and its tags."""

from __future__ import annotations

from django.db import models


class Article(models.Model):
    """Sortable by title, rank (nullable), published (nullable) and created."""

    title = models.CharField(max_length=40)
    rank = models.IntegerField(null=True)
    category = models.CharField(max_length=20, null=True)
    created = models.DateTimeField()

    class Meta:
        app_label = "testapp"
        indexes = [  # noqa: RUF012 - Django reads it as declared
            models.Index(fields=["rank", "id"], name="article_rank_id"),
            models.Index(fields=["category", "title", "id"], name="article_cat_title_id"),
        ]


class Tag(models.Model):
    """Many tags per article (for DISTINCT/join counting)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=20)

    class Meta:
        app_label = "testapp"
