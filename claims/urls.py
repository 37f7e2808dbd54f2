from django.urls import path

from claims import feeds, sharing, speaker_views, views

app_name = "claims"

urlpatterns = [
    path("", views.home, name="home"),
    path("claims/", views.claim_list, name="list"),
    path("claims/<slug:slug>/", views.claim_detail, name="detail"),
    path("claims/<slug:slug>/share.png", sharing.share_image, name="share-image"),
    path("claims/<slug:slug>/embed/", sharing.embed, name="embed"),
    path("speakers/", speaker_views.speaker_list, name="speaker_list"),
    path("speakers/<slug:slug>/", speaker_views.speaker_detail, name="speaker"),
    path("topics/", views.topic_list, name="topic_list"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic"),
    path("status/<str:status>/", views.status_detail, name="status"),
    path("corrections/", views.corrections, name="corrections"),
    path("corrections/policy/", views.corrections_policy, name="corrections-policy"),
    path("feeds/verdicts.atom", feeds.VerdictFeed(), name="feed"),
    path("oembed", sharing.oembed, name="oembed"),
]
