"""访调诉 integration: referring petitions to the people's-mediation and court litigation-service platforms."""
