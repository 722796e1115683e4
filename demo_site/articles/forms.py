"""Forms of the articles app."""

from django import forms

from demo_site.articles.models import Article


class ArticleForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = ["title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}


class EditArticleForm(ArticleForm):
    """Editing can fail on purpose, so the monitor has a rollback to show."""

    simulate_failure = forms.BooleanField(
        required=False, label="Simulate a failure after saving (the edit is rolled back)")
