"""Forms of the articles app."""

from django import forms

from demo_site.articles.models import Article


class ArticleForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = ["title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}
